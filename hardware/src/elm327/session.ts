import type { VehicleStateProvider } from '../vehicle/state.js';
import type { Elm327Faults } from './faults.js';
import { encodeDtc, supportBitmap, type EmulatedEcu } from './vehicle-ecus.js';

/** The settings an ELM327 keeps between commands; ATZ/ATD restore these defaults. */
interface Settings {
  echo: boolean;
  linefeeds: boolean;
  spaces: boolean;
  headers: boolean;
  /** ATCAF: hide ISO-TP PCI bytes and padding when headers are off. */
  autoFormat: boolean;
  adaptiveTiming: number;
  /** ATSP value: `0` auto or a protocol number. */
  protocol: string;
  /** Protocol found by the search after ATSP0; undefined until the first request. */
  detected: boolean;
}

const DEFAULTS: Settings = {
  echo: true,
  linefeeds: true,
  spaces: true,
  headers: false,
  autoFormat: true,
  adaptiveTiming: 1,
  protocol: '0',
  detected: false,
};

const CAN_PROTOCOL = '6';
const CAN_PROTOCOL_NAME = 'ISO 15765-4 (CAN 11/500)';

/** What the server must do with one command. */
export interface SessionReply {
  /** Text to send, prompt included. */
  readonly text: string;
}

export interface SessionOptions {
  readonly vehicle: VehicleStateProvider;
  readonly ecus: readonly EmulatedEcu[];
  readonly faults: Elm327Faults;
  /** What ATI and ATZ print. */
  readonly version: string;
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/**
 * One ELM327's command interpreter: text command in, reply text out, as the v1.5/2.x
 * datasheet describes it for protocol 6 (ISO 15765-4 CAN 11/500). Pure apart from the vehicle
 * and fault objects it reads, so the transport (TCP, pty) stays a thin loop around it.
 */
export class Elm327Session {
  private s: Settings = { ...DEFAULTS };

  constructor(private readonly options: SessionOptions) {}

  /** Handles one command line (without CR). */
  handle(input: string): SessionReply {
    const command = input.replace(/\s+/g, '').toUpperCase();
    const echo = this.s.echo ? `${input}\r` : '';
    const lines = command.startsWith('AT') ? this.at(command.slice(2)) : this.obd(command);
    // Settings changed by this very command (ATL1, ATE0) apply from its own reply on.
    const eol = this.s.linefeeds ? '\r\n' : '\r';
    return { text: `${echo}${lines.map((l) => l + eol).join('')}${eol}>` };
  }

  private at(cmd: string): string[] {
    const s = this.s;
    const flag = (re: RegExp): boolean | undefined => {
      const m = re.exec(cmd);
      return m ? m[1] === '1' : undefined;
    };
    if (cmd === 'Z' || cmd === 'WS') {
      this.s = { ...DEFAULTS };
      return ['', this.options.version];
    }
    if (cmd === 'D') {
      this.s = { ...DEFAULTS, echo: s.echo };
      return ['OK'];
    }
    if (cmd === 'I') return [this.options.version];
    if (cmd === '@1') return ['OBDII to RS232 Interpreter'];
    if (cmd === 'RV') return [`${this.options.vehicle().batteryV.toFixed(1)}V`];
    if (cmd === 'DP') {
      const name = s.protocol === '0' || s.protocol === CAN_PROTOCOL ? CAN_PROTOCOL_NAME : '?';
      return [s.protocol === '0' ? `AUTO, ${name}` : name];
    }
    if (cmd === 'DPN') {
      if (s.protocol === '0') return [s.detected ? `A${CAN_PROTOCOL}` : '0'];
      return [s.protocol];
    }
    const settings: [RegExp, (on: boolean) => void][] = [
      [/^E([01])$/, (on) => (s.echo = on)],
      [/^L([01])$/, (on) => (s.linefeeds = on)],
      [/^S([01])$/, (on) => (s.spaces = on)],
      [/^H([01])$/, (on) => (s.headers = on)],
      [/^CAF([01])$/, (on) => (s.autoFormat = on)],
      [/^M([01])$/, () => {}],
      [/^CFC([01])$/, () => {}],
      [/^R([01])$/, () => {}],
    ];
    for (const [re, apply] of settings) {
      const on = flag(re);
      if (on !== undefined) {
        apply(on);
        return ['OK'];
      }
    }
    let m = /^AT([0-2])$/.exec(cmd);
    if (m) {
      s.adaptiveTiming = Number(m[1]);
      return ['OK'];
    }
    m = /^(?:SP|TP)A?([0-9A-C])$/.exec(cmd);
    if (m) {
      s.protocol = m[1]!;
      s.detected = false;
      return ['OK'];
    }
    if (/^(ST[0-9A-F]{2}|SH[0-9A-F]{3}|SH[0-9A-F]{6}|CRA[0-9A-F]*|PC|AL|NL)$/.test(cmd))
      return ['OK'];
    return ['?'];
  }

  private obd(cmd: string): string[] {
    const { faults } = this.options;
    if (!/^[0-9A-F]+$/.test(cmd) || cmd.length < 2) return ['?'];
    // An odd digit count ends with the ELM327 response-count digit.
    let expected: number | undefined;
    let hex = cmd;
    if (hex.length % 2 === 1) {
      expected = parseInt(hex.slice(-1), 16);
      hex = hex.slice(0, -1);
    }
    const bytes = Array.from({ length: hex.length / 2 }, (_, i) =>
      parseInt(hex.slice(2 * i, 2 * i + 2), 16),
    );
    const lead: string[] = [];
    if (this.s.protocol === '0' && !this.s.detected) {
      if (faults.searching) lead.push('SEARCHING...');
      this.s.detected = true;
    } else if (this.s.protocol !== '0' && this.s.protocol !== CAN_PROTOCOL) {
      // A fixed protocol this car does not speak: what the chosen bus reports.
      if (/^[345]$/.test(this.s.protocol)) return ['BUS INIT: ...ERROR'];
      if (/^[12]$/.test(this.s.protocol)) return ['UNABLE TO CONNECT'];
      return ['CAN ERROR'];
    }
    const status = faults.takeStatus();
    if (status) return [...lead, status];
    const messages = this.answer(bytes);
    if (messages.length === 0) return [...lead, 'NO DATA'];
    const frames: string[][] = [];
    for (const m of messages) frames.push(this.format(m.ecu, m.data));
    // The response count stops the adapter after that many CAN frames (formatted length lines
    // are not frames).
    const out = [...lead];
    let count = 0;
    for (const lines of frames) {
      for (const line of lines) {
        out.push(line);
        if (!/^[0-9A-F]{3}$/.test(line)) count++;
        if (expected !== undefined && count >= expected) return out;
      }
    }
    return out;
  }

  /** Each answering ECU's positive response to `request`, in CAN arbitration order. */
  private answer(request: readonly number[]): { ecu: EmulatedEcu; data: number[] }[] {
    const [service, ...params] = request;
    const vehicle = this.options.vehicle();
    const out: { ecu: EmulatedEcu; data: number[] }[] = [];
    for (const ecu of this.options.ecus) {
      let data: number[] | undefined;
      if (service === 0x01 && params.length >= 1 && params.length <= 6) {
        const body: number[] = [];
        for (const pid of params) {
          if (pid % 0x20 === 0) {
            const all = [...ecu.pids.keys()];
            // An ECU answers a bitmap only if it has PIDs at or beyond it (00 always).
            if (pid === 0 || all.some((p) => p > pid)) body.push(pid, ...supportBitmap(pid, all));
          } else if (ecu.pids.has(pid) && !this.options.faults.noDataPids.has(pid)) {
            body.push(pid, ...ecu.pids.get(pid)!(vehicle));
          }
        }
        if (body.length > 0) data = [0x41, ...body];
      } else if (
        (service === 0x03 || service === 0x07 || service === 0x0a) &&
        params.length === 0
      ) {
        if (ecu.reportsDtcs) {
          const codes =
            service === 0x03
              ? this.options.faults.storedDtcs(vehicle.dtcs)
              : service === 0x07
                ? this.options.faults.pendingDtcs()
                : this.options.faults.permanentDtcs(vehicle.dtcs);
          data = [service + 0x40, codes.length, ...codes.flatMap((c) => encodeDtc(c))];
        }
      } else if (service === 0x04 && params.length === 0) {
        if (ecu.reportsDtcs) {
          this.options.faults.clearDtcs();
          data = [0x44];
        }
      } else if (service === 0x09 && params.length === 1) {
        const type = params[0]!;
        if (type === 0x00) data = [0x49, 0x00, 0x01, ...supportBitmap(0, ecu.info.keys())];
        else if (ecu.info.has(type)) data = [0x49, type, ...ecu.info.get(type)!(vehicle)];
      }
      if (data) out.push({ ecu, data });
    }
    return out;
  }

  /** The lines an ELM327 prints for one ECU message under the current ATH/ATS/ATCAF. */
  private format(ecu: EmulatedEcu, data: readonly number[]): string[] {
    const sep = this.s.spaces ? ' ' : '';
    const bytes = (list: readonly number[]) => list.map(hex2).join(sep);
    const header = this.s.headers ? ecu.header + sep : '';
    const frames = isoTpFrames(data);
    if (!this.s.autoFormat) return frames.map((f) => header + bytes(f));
    if (this.s.headers) {
      // CAF1 with headers: PCI shown, a single frame's padding hidden.
      if (frames.length === 1) return [header + bytes(frames[0]!.slice(0, data.length + 1))];
      return frames.map((f) => header + bytes(f));
    }
    if (frames.length === 1) return [bytes(data)];
    // CAF1 without headers: the length, then `n:` lines of payload (padding shown on the last).
    const lines = [data.length.toString(16).toUpperCase().padStart(3, '0')];
    frames.forEach((f, i) => {
      lines.push(
        `${(i & 0xf).toString(16).toUpperCase()}:${sep}${bytes(i === 0 ? f.slice(2) : f.slice(1))}`,
      );
    });
    return lines;
  }
}

/** ISO 15765-2 framing of one message into 8-byte CAN frames, padded with 00. */
export function isoTpFrames(data: readonly number[]): number[][] {
  const pad = (f: number[]) => [...f, ...Array<number>(8 - f.length).fill(0)];
  if (data.length <= 7) return [pad([data.length, ...data])];
  const frames = [pad([0x10 | (data.length >> 8), data.length & 0xff, ...data.slice(0, 6)])];
  let seq = 1;
  for (let i = 6; i < data.length; i += 7) {
    frames.push(pad([0x20 | (seq & 0xf), ...data.slice(i, i + 7)]));
    seq++;
  }
  return frames;
}
