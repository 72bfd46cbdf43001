import {
  decodeCalibrationIds,
  decodeDtcResponse,
  decodeSupportedPids,
  decodeVinResponse,
  isSupportBitmapPid,
  mode01Pid,
  parseBatteryVoltage,
  splitMode01Response,
  type DtcService,
  type PidData,
} from '../obd/index.js';
import { AdapterError, NoDataError, ProtocolError } from '../source/errors.js';
import { ElmLink } from './link.js';
import {
  assembleMessages,
  ELM_PROTOCOLS,
  replyFormat,
  replyLines,
  throwIfStatus,
  type EcuMessage,
  type ReplyFormat,
} from './reply.js';
import { openElmTransport, type ElmTransport } from './transport.js';

export interface Elm327ClientOptions {
  /** A serial device (`/dev/ttyUSB0`, a pty) or `tcp://host:port` (Wi-Fi adapters). */
  readonly port: string;
  readonly baudRate?: number;
  /** ATSP protocol: `auto` (ATSP0, default) or `1`..`C` to skip the search on a known car. */
  readonly protocol?: 'auto' | string;
  /** Reply timeout for OBD requests, ms. Default 2000 (the first request may search protocols). */
  readonly timeoutMs?: number;
  /** ATAT adaptive timing: 1 (default, safe) or 2 (aggressive, fastest on healthy buses). */
  readonly adaptiveTiming?: 0 | 1 | 2;
  /** Print ATS1 spaces: off by default, a third fewer bytes per reply on a 38400-baud link. */
  readonly spaces?: boolean;
  /**
   * ATH1 (default): frames carry the ECU's CAN id, so answers of several ECUs are told apart.
   * With false (ATH0) several ECUs' answers are indistinguishable.
   */
  readonly headers?: boolean;
  /** ATCAF1 (default) or ATCAF0 (raw frames with PCI bytes and padding). */
  readonly autoFormat?: boolean;
}

/** What `connect()` learned about the adapter and the car. */
export interface Elm327Identity {
  /** `ELM327 v1.5` as the adapter says it (clones lie about the version). */
  readonly adapter: string;
  /** ATDPN protocol number, e.g. `6`. */
  readonly protocolNumber: string;
  /** Human-readable protocol, e.g. `ISO 15765-4 CAN (11 bit ID, 500 kbaud)`. */
  readonly protocol: string;
}

/** The response of one ECU to a service 01 request, split by PID. */
export interface EcuPids {
  readonly ecu: string;
  readonly pids: readonly PidData[];
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
const MAX_PIDS_PER_REQUEST = 6;
/** Start-up exchanges tried before a garbled one means no ELM327 is there. */
const INIT_ATTEMPTS = 3;

/**
 * An ELM327 (or compatible: STN11xx, OBDLink, Wi-Fi clones) driven over a serial port or TCP:
 * initialisation, typed errors for every status reply, per-ECU messages with ISO-TP joined,
 * and the round-trip savers that matter at 5-20 requests per second: several PIDs per
 * request on CAN, and the response-count suffix so the adapter returns as soon as the
 * expected frames arrived instead of waiting out its timeout.
 */
export class Elm327Client {
  private format: ReplyFormat = replyFormat('6', true);
  private identity_: Elm327Identity | undefined;
  /** Supported service 01 PIDs per ECU header, once `supportedPids()` ran. */
  private support: Map<string, Set<number>> | undefined;

  private constructor(
    private readonly link: ElmLink,
    private readonly options: Elm327ClientOptions,
  ) {}

  /** Opens the port and initialises the adapter; rejects with `AdapterError('no-adapter')`. */
  static async connect(options: Elm327ClientOptions): Promise<Elm327Client> {
    if (typeof options !== 'object' || options === null) {
      throw new AdapterError('bad-input', 'options must be an object');
    }
    const protocol = options.protocol ?? 'auto';
    if (protocol !== 'auto' && !/^[1-9A-C]$/i.test(protocol)) {
      throw new AdapterError('bad-input', 'protocol must be auto or 1..C');
    }
    const timing = options.adaptiveTiming ?? 1;
    if (![0, 1, 2].includes(timing))
      throw new AdapterError('bad-input', 'adaptiveTiming must be 0, 1 or 2');
    const transport: ElmTransport = await openElmTransport(options.port, {
      baudRate: options.baudRate,
    });
    const client = new Elm327Client(new ElmLink(transport), options);
    try {
      // Line noise (a Bluetooth or Wi-Fi clone, a loose connector) can garble one reply of
      // the start-up exchange, as it does a reading later on; the exchange begins with a
      // reset, so it is run again rather than the adapter given up for absent.
      for (let attempt = 1; ; attempt++) {
        try {
          await client.init();
          break;
        } catch (err) {
          if (!(err instanceof AdapterError && err.code === 'protocol' && attempt < INIT_ATTEMPTS))
            throw err;
        }
      }
    } catch (err) {
      await client.close();
      if (err instanceof AdapterError && (err.code === 'timeout' || err.code === 'protocol')) {
        throw new AdapterError(
          'no-adapter',
          `${options.port}: no ELM327 answered (${err.message}); check the port, that the adapter is powered (plugged into the OBD socket) and the baud rate`,
          { cause: err },
        );
      }
      throw err;
    }
    return client;
  }

  get identity(): Elm327Identity {
    if (!this.identity_) throw new AdapterError('bad-input', 'not connected');
    return this.identity_;
  }

  get address(): string {
    return this.link.address;
  }

  /** Requests sent since connect (AT commands included). */
  get requests(): number {
    return this.link.requests;
  }

  get isLost(): boolean {
    return this.link.isLost;
  }

  /** True on ISO 15765-4 (CAN), where multi-PID requests are allowed. */
  get isCan(): boolean {
    return this.format.can;
  }

  close(): Promise<void> {
    return this.link.close();
  }

  /** Sends an AT command and returns its reply lines (status replies throw). */
  async at(command: string, timeoutMs = 1000): Promise<string[]> {
    const lines = replyLines(await this.link.send(command, timeoutMs), command);
    throwIfStatus(lines);
    return lines;
  }

  private async init(): Promise<void> {
    // ATZ answers after a reset of up to a second on a genuine chip; clones are quicker.
    await this.link.send('ATZ', 3000);
    // Text the adapter sent before this open (the reply to a request in flight when the last
    // client closed) arrives first and shifts every reply by one: take replies until ATE0's
    // own OK comes, so the commands below are in step.
    const ok = (raw: string) => replyLines(raw).some((l) => /^OK$/i.test(l));
    let synced = ok(await this.link.send('ATE0', 1000));
    for (let extra = 0; extra < 3 && !synced; extra++) {
      synced = ok(await this.link.receive(1000));
    }
    if (!synced) throw new ProtocolError('the adapter never answered ATE0 with OK');
    const adapter =
      (await this.at('ATI').catch(() => [] as string[])).find((l) => /\S/.test(l)) ??
      'unknown adapter';
    const headers = this.options.headers ?? true;
    const autoFormat = this.options.autoFormat ?? true;
    for (const cmd of [
      'ATL0', // CR only
      this.options.spaces ? 'ATS1' : 'ATS0',
      headers ? 'ATH1' : 'ATH0', // headers tell which ECU answered (7E8 engine, 7E9 gearbox)
      autoFormat ? 'ATCAF1' : 'ATCAF0',
      `ATAT${this.options.adaptiveTiming ?? 1}`,
      `ATSP${this.options.protocol === undefined || this.options.protocol === 'auto' ? '0' : this.options.protocol.toUpperCase()}`,
    ]) {
      const lines = await this.at(cmd);
      if (!lines.some((l) => /OK/i.test(l))) {
        throw new ProtocolError(`${cmd} answered ${JSON.stringify(lines.join(' '))}, not OK`);
      }
    }
    // The first request makes the adapter search for the protocol (SEARCHING...); 0100 is one
    // every OBD-II ECU must answer, and we need it anyway.
    this.format = replyFormat('6', headers, autoFormat);
    await this.supportedPids();
    const dpn = (await this.at('ATDPN'))[0]?.replace(/\s+/g, '').toUpperCase() ?? '';
    const number = dpn.replace(/^A/, '');
    if (!(number in ELM_PROTOCOLS))
      throw new ProtocolError(`ATDPN answered ${JSON.stringify(dpn)}`);
    this.format = replyFormat(number, headers, autoFormat);
    this.identity_ = {
      adapter: adapter.trim(),
      protocolNumber: number,
      protocol: ELM_PROTOCOLS[number]!,
    };
  }

  /**
   * Sends an OBD request (`0100`, `010C0D`, `0902`) and returns one message per ECU response.
   * `expectedFrames` adds the ELM327 response-count digit (1-F) so the adapter stops listening
   * after that many frames. NO DATA and the bus errors throw their typed errors.
   */
  async request(hex: string, expectedFrames?: number): Promise<EcuMessage[]> {
    if (!/^([0-9A-F]{2})+$/i.test(hex))
      throw new AdapterError('bad-input', 'request must be hex bytes');
    const suffix =
      expectedFrames !== undefined && expectedFrames >= 1 && expectedFrames <= 15
        ? expectedFrames.toString(16).toUpperCase()
        : '';
    const command = hex.toUpperCase() + suffix;
    const lines = replyLines(
      await this.link.send(command, this.options.timeoutMs ?? 2000),
      command,
    );
    throwIfStatus(lines);
    if (lines.length === 0) throw new NoDataError(`empty reply to ${command}`);
    // Before ATDPN is known, guess from the line shape: 11-bit CAN headers are 3 digits.
    const format =
      this.identity_ || !(this.options.headers ?? true)
        ? this.format
        : guessFormat(lines, this.options.autoFormat ?? true);
    return assembleMessages(lines, format);
  }

  /**
   * The service 01 PIDs each ECU supports, following the bitmap chain (00, 20, 40 ...) as far
   * as any ECU announces the next bitmap.
   */
  async supportedPids(): Promise<ReadonlyMap<string, ReadonlySet<number>>> {
    const support = new Map<string, Set<number>>();
    let base = 0x00;
    while (true) {
      let messages: EcuMessage[];
      try {
        messages = await this.request(`01${hex2(base)}`);
      } catch (err) {
        if (err instanceof NoDataError && base > 0) break;
        throw err;
      }
      let more = false;
      for (const m of messages) {
        if (m.data[0] !== 0x41 || m.data[1] !== base) continue;
        const pids = decodeSupportedPids(base, m.data.subarray(2));
        const set = support.get(m.ecu) ?? new Set<number>();
        for (const p of pids) set.add(p);
        support.set(m.ecu, set);
        if (pids.includes(base + 0x20)) more = true;
      }
      if (!more || base >= 0xc0) break;
      base += 0x20;
    }
    if (support.size === 0) throw new ProtocolError('no ECU answered 0100 with a bitmap');
    this.support = support;
    return support;
  }

  /** Union of supported PIDs over every ECU, bitmaps excluded. */
  supportedUnion(): number[] {
    const all = new Set<number>();
    for (const set of this.support?.values() ?? []) for (const p of set) all.add(p);
    return [...all].filter((p) => !isSupportBitmapPid(p)).sort((a, b) => a - b);
  }

  /**
   * Frames the ECUs will send for a service 01 request of `pids`, when every ECU's support is
   * known: each supporting ECU answers once with `41` and its PIDs, one CAN frame up to 7
   * bytes, else a first frame (6 bytes) and consecutive frames (7 each).
   */
  expectedFrames(pids: readonly number[]): number | undefined {
    if (!this.support || !this.format.can) return undefined;
    let frames = 0;
    for (const set of this.support.values()) {
      let length = 1;
      for (const pid of pids) {
        if (!set.has(pid)) continue;
        const bytes = mode01Pid(pid)?.bytes;
        if (bytes === undefined) return undefined;
        length += 1 + bytes;
      }
      if (length === 1) continue;
      frames += length <= 7 ? 1 : 1 + Math.ceil((length - 6) / 7);
    }
    return frames > 0 ? frames : undefined;
  }

  /**
   * Reads service 01 `pids` (at most 6, CAN only for more than one) in one request and returns
   * each ECU's data by PID.
   */
  async readPids(pids: readonly number[]): Promise<EcuPids[]> {
    if (!Array.isArray(pids) || pids.length === 0 || pids.length > MAX_PIDS_PER_REQUEST) {
      throw new AdapterError('bad-input', 'pids must hold 1 to 6 PIDs');
    }
    if (pids.length > 1 && !this.format.can) {
      throw new AdapterError('unsupported', 'several PIDs per request need a CAN vehicle');
    }
    const messages = await this.request(`01${pids.map(hex2).join('')}`, this.expectedFrames(pids));
    return messages
      .filter((m) => m.data[0] === 0x41 || m.data[0] === 0x7f)
      .map((m) => ({ ecu: m.ecu, pids: splitMode01Response(m.data) }));
  }

  /** The VIN (service 09 info type 02), from the first ECU that gives one. */
  async readVin(): Promise<string> {
    const messages = await this.request('0902');
    const byEcu = groupByEcu(messages);
    let lastError: unknown = new NoDataError('no ECU returned a VIN');
    for (const group of byEcu.values()) {
      try {
        return decodeVinResponse(group);
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** Calibration IDs (service 09 info type 04) of every ECU that answers. */
  async readCalibrationIds(): Promise<string[]> {
    const messages = await this.request('0904');
    return [...groupByEcu(messages).values()].flatMap((group) => decodeCalibrationIds(group));
  }

  /** DTCs of service 03 (stored), 07 (pending) or 0A (permanent), merged over ECUs. */
  async readDtcs(service: DtcService = 0x03): Promise<string[]> {
    let messages: EcuMessage[];
    try {
      messages = await this.request(hex2(service));
    } catch (err) {
      // Some ECUs answer NO DATA rather than "0 codes".
      if (err instanceof NoDataError) return [];
      throw err;
    }
    const all = new Set<string>();
    for (const group of groupByEcu(messages).values()) {
      for (const code of decodeDtcResponse(service, group, this.format.can ? 'can' : 'legacy')) {
        all.add(code);
      }
    }
    return [...all];
  }

  /** ATRV: the voltage at the OBD socket's pin 16 (the 12 V battery). */
  async readBatteryVoltage(): Promise<number> {
    const lines = await this.at('ATRV');
    return parseBatteryVoltage(lines[0] ?? '');
  }
}

function groupByEcu(messages: readonly EcuMessage[]): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  for (const m of messages) {
    const list = out.get(m.ecu) ?? [];
    list.push(m.data);
    out.set(m.ecu, list);
  }
  return out;
}

/** Reply format from the look of the lines, before ATDPN told the protocol. */
function guessFormat(lines: readonly string[], autoFormat: boolean): ReplyFormat {
  const first = lines[0]!.replace(/\s+/g, '');
  // 11-bit CAN with headers: `7E8` + PCI + data, an odd number of digits starting 7E/7D.
  if (/^7[0-9A-F]{2}([0-9A-F]{2})+$/i.test(first)) return replyFormat('6', true, autoFormat);
  if (/^18DA[0-9A-F]{4}([0-9A-F]{2})+$/i.test(first)) return replyFormat('7', true, autoFormat);
  return replyFormat('3', true, autoFormat);
}
