/**
 * The SLCAN (Lawicel CANUSB) ASCII protocol as pure functions: commands and frames are text
 * terminated by CR (0x0D); a device answers CR for OK and BEL (0x07) for an error. Shared by
 * `SlcanSource` and the device emulator in hardware/src/slcan, so both speak exactly this.
 */
import { CanError } from './errors.js';
import { bytesToHex, formatCanId, hexToBytes, parseHexInt, type CanFrame } from './frame.js';

export const SLCAN_CR = 0x0d;
export const SLCAN_BEL = 0x07;

/** `S0`..`S8`: the standard bitrates, in bit/s, by setup code. */
export const SLCAN_BITRATES: readonly number[] = [
  10_000, 20_000, 50_000, 100_000, 125_000, 250_000, 500_000, 800_000, 1_000_000,
];

/** The `S<n>` command for a bitrate in bit/s, or undefined when it is not one of S0..S8. */
export function slcanBitrateCommand(bitrate: number): string | undefined {
  const code = SLCAN_BITRATES.indexOf(bitrate);
  return code < 0 ? undefined : `S${code}`;
}

/**
 * Lawicel timestamps (`Z1`) count milliseconds from 0 to 0xEA5F and wrap at 60,000; some
 * clones wrap at 0x10000. Both are 16-bit values.
 */
export const SLCAN_TIMESTAMP_WRAP_MS = 60_000;

/** A frame as the adapter sent it, before the host dates it. */
export interface SlcanFrame {
  readonly id: number;
  readonly extended: boolean;
  readonly rtr: boolean;
  readonly data: Uint8Array;
  /** Requested length of a remote frame. */
  readonly dlc: number;
  /** The adapter's 16-bit millisecond timestamp when `Z1` is on and it sent one. */
  readonly deviceTimeMs?: number;
}

/**
 * Encodes a classic CAN frame as an SLCAN transmit command without the CR:
 * `t0B48000000001D0B7A5E`, `T18DAF1102...`, `r1230`, `R18DAF1104`.
 * Throws `CanError` for what SLCAN cannot carry (CAN FD, bad id).
 */
export function encodeSlcanFrame(frame: CanFrame, deviceTimeMs?: number): string {
  if (frame.fd) throw new CanError('bad-frame', 'fd: SLCAN (Lawicel) carries classic CAN only');
  const limit = frame.extended ? 0x1fffffff : 0x7ff;
  if (!(Number.isInteger(frame.id) && frame.id >= 0 && frame.id <= limit)) {
    throw new CanError('bad-frame', `id 0x${frame.id.toString(16)} out of range`);
  }
  const dlc = frame.rtr ? (frame.dlc ?? 0) : frame.data.length;
  if (dlc > 8) throw new CanError('bad-length', `data: ${dlc} bytes, SLCAN carries at most 8`);
  const kind = frame.rtr ? (frame.extended ? 'R' : 'r') : frame.extended ? 'T' : 't';
  let text = `${kind}${formatCanId(frame.id, frame.extended)}${dlc}${frame.rtr ? '' : bytesToHex(frame.data)}`;
  if (deviceTimeMs !== undefined) {
    text += (Math.floor(deviceTimeMs) & 0xffff).toString(16).toUpperCase().padStart(4, '0');
  }
  return text;
}

/**
 * Parses a received frame line (`t`, `T`, `r`, `R`, CR already removed), with or without the
 * 4-digit timestamp. Untrusted bytes: returns `undefined` for anything that is not exactly a
 * frame, never throws.
 */
export function parseSlcanFrame(line: string): SlcanFrame | undefined {
  const kind = line[0];
  const extended = kind === 'T' || kind === 'R';
  const rtr = kind === 'r' || kind === 'R';
  if (!(extended || rtr || kind === 't')) return undefined;
  const idLen = extended ? 8 : 3;
  const id = parseHexInt(line, 1, 1 + idLen);
  if (id < 0 || id > (extended ? 0x1fffffff : 0x7ff)) return undefined;
  const dlc = parseHexInt(line, 1 + idLen, 2 + idLen);
  if (dlc < 0 || dlc > 8) return undefined;
  const dataEnd = 2 + idLen + (rtr ? 0 : 2 * dlc);
  let deviceTimeMs: number | undefined;
  if (line.length === dataEnd + 4) {
    deviceTimeMs = parseHexInt(line, dataEnd, dataEnd + 4);
    if (deviceTimeMs < 0) return undefined;
  } else if (line.length !== dataEnd) return undefined;
  const data = rtr ? new Uint8Array(0) : hexToBytes(line, 2 + idLen, dataEnd);
  if (!data) return undefined;
  return deviceTimeMs === undefined
    ? { id, extended, rtr, data, dlc }
    : { id, extended, rtr, data, dlc, deviceTimeMs };
}

/** One unit of what a device sends: a CR-terminated line, or a BEL error reply. */
export type SlcanToken =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'bell' }
  | { readonly kind: 'overflow' };

/** Longest legal line: `T` + 8 id + 1 dlc + 16 data + 4 timestamp = 30; anything past 64 is noise. */
const MAX_LINE = 64;

/**
 * Splits a byte stream into SLCAN tokens. LF is ignored (some adapters send CR LF); a line
 * longer than any legal one is dropped as `overflow` so garbage cannot grow memory.
 */
export class SlcanTokenizer {
  private line = '';
  private overflowing = false;

  push(chunk: Uint8Array): SlcanToken[] {
    const out: SlcanToken[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === SLCAN_CR) {
        if (this.overflowing) out.push({ kind: 'overflow' });
        else out.push({ kind: 'line', text: this.line });
        this.line = '';
        this.overflowing = false;
      } else if (b === SLCAN_BEL) {
        if (this.line !== '' || this.overflowing) out.push({ kind: 'overflow' });
        this.line = '';
        this.overflowing = false;
        out.push({ kind: 'bell' });
      } else if (b === 0x0a) {
        continue;
      } else if (!this.overflowing) {
        if (this.line.length >= MAX_LINE) {
          this.overflowing = true;
          this.line = '';
        } else this.line += String.fromCharCode(b);
      }
    }
    return out;
  }
}

/**
 * Turns the adapter's wrapping 16-bit millisecond timestamps into a monotonic time on the
 * host clock: the first frame anchors the device clock to `now()`, later ones count wraps.
 * A gap longer than one wrap period cannot be seen in the timestamps and is lost.
 */
export class SlcanTimestampUnwrapper {
  private base: number | undefined;
  private last = 0;
  private wraps = 0;

  constructor(private readonly wrapMs = SLCAN_TIMESTAMP_WRAP_MS) {}

  toHostTime(deviceTimeMs: number, now: number): number {
    if (this.base === undefined) {
      this.base = now - deviceTimeMs;
    } else if (deviceTimeMs < this.last) {
      this.wraps++;
    }
    this.last = deviceTimeMs;
    return this.base + this.wraps * this.wrapMs + deviceTimeMs;
  }
}
