import { CanError } from './errors.js';

/** One CAN or CAN FD frame as it crossed the bus. */
export interface CanFrame {
  /** 11-bit (0..0x7FF) or, when `extended`, 29-bit (0..0x1FFFFFFF) identifier, without flags. */
  readonly id: number;
  readonly extended: boolean;
  /** Remote transmission request: no payload, `dlc` bytes requested. */
  readonly rtr: boolean;
  /** A CAN FD frame (payload up to 64 bytes). */
  readonly fd: boolean;
  /** The payload; empty for RTR frames. */
  readonly data: Uint8Array;
  /**
   * Milliseconds: Unix epoch ms at receipt for live sources, the log's own time base for
   * replays (candump's boot-time seconds × 1000 for the RAV4 capture).
   */
  readonly time: number;
  /** Length requested by an RTR frame (data is empty); absent otherwise. */
  readonly dlc?: number;
  /** CAN FD flags as candump writes them (bit 0 BRS, bit 1 ESI); absent for classic CAN. */
  readonly fdFlags?: number;
}

export const CAN_SFF_MAX = 0x7ff;
export const CAN_EFF_MAX = 0x1fffffff;
/** The payload lengths a CAN FD frame may have (ISO 11898-1:2015 DLC 0..15). */
export const CANFD_LENGTHS: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64,
];

export function isValidCanId(id: number, extended: boolean): boolean {
  return Number.isInteger(id) && id >= 0 && id <= (extended ? CAN_EFF_MAX : CAN_SFF_MAX);
}

/** Whether `length` bytes is a payload length the frame kind allows. */
export function isValidPayloadLength(length: number, fd: boolean): boolean {
  return fd ? CANFD_LENGTHS.includes(length) : length >= 0 && length <= 8;
}

/**
 * Builds a frame, checking every field at this public boundary (misuse throws a `CanError`
 * naming the field). Sources that parse untrusted bytes check as they parse and build the
 * object literal themselves.
 */
export function createCanFrame(fields: {
  id: number;
  data?: Uint8Array;
  extended?: boolean;
  rtr?: boolean;
  fd?: boolean;
  time?: number;
  dlc?: number;
  fdFlags?: number;
}): CanFrame {
  const extended = fields.extended ?? fields.id > CAN_SFF_MAX;
  const rtr = fields.rtr ?? false;
  const fd = fields.fd ?? false;
  const data = fields.data ?? new Uint8Array(0);
  const time = fields.time ?? 0;
  if (!isValidCanId(fields.id, extended)) {
    throw new CanError(
      'bad-frame',
      `id must be an integer 0..0x${(extended ? CAN_EFF_MAX : CAN_SFF_MAX).toString(16)}`,
    );
  }
  if (!(data instanceof Uint8Array)) throw new CanError('bad-frame', 'data must be a Uint8Array');
  if (!isValidPayloadLength(data.length, fd)) {
    throw new CanError(
      'bad-length',
      `data length ${data.length} is not allowed for ${fd ? 'CAN FD' : 'CAN'}`,
    );
  }
  if (rtr && fd) throw new CanError('bad-frame', 'rtr: CAN FD has no remote frames');
  if (rtr && data.length > 0)
    throw new CanError('bad-frame', 'rtr: a remote frame carries no data');
  if (!Number.isFinite(time)) throw new CanError('bad-frame', 'time must be a finite number');
  const frame: {
    id: number;
    extended: boolean;
    rtr: boolean;
    fd: boolean;
    data: Uint8Array;
    time: number;
    dlc?: number;
    fdFlags?: number;
  } = { id: fields.id, extended, rtr, fd, data, time };
  if (fields.dlc !== undefined) {
    if (!(Number.isInteger(fields.dlc) && fields.dlc >= 0 && fields.dlc <= 8)) {
      throw new CanError('bad-frame', 'dlc must be an integer 0..8');
    }
    frame.dlc = fields.dlc;
  }
  if (fields.fdFlags !== undefined) {
    if (!fd || !(Number.isInteger(fields.fdFlags) && fields.fdFlags >= 0 && fields.fdFlags <= 15)) {
      throw new CanError('bad-frame', 'fdFlags must be an integer 0..15 on a CAN FD frame');
    }
    frame.fdFlags = fields.fdFlags;
  }
  return frame;
}

/** `0B4` or `18DAF110`: the id as candump and SLCAN print it. */
export function formatCanId(id: number, extended: boolean): string {
  return id
    .toString(16)
    .toUpperCase()
    .padStart(extended ? 8 : 3, '0');
}

const HEX = '0123456789ABCDEF';

export function bytesToHex(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    s += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return s;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Hex digits to bytes; `undefined` when `hex` has an odd length or a non-hex character. */
export function hexToBytes(hex: string, start = 0, end = hex.length): Uint8Array | undefined {
  const n = end - start;
  if (n < 0 || n % 2 !== 0) return undefined;
  const out = new Uint8Array(n / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(start + 2 * i));
    const lo = hexNibble(hex.charCodeAt(start + 2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Parses `count` hex digits as an unsigned integer; -1 on any non-hex character. */
export function parseHexInt(text: string, start: number, end: number): number {
  if (end <= start) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = hexNibble(text.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}
