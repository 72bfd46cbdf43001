import { halfBitsIfExact } from './encode.js';
import { CborTag, type CborKey, type CborValue } from './types.js';
import { WireFormatError } from './wire-format-error.js';

export interface CborDecodeOptions {
  /** Refuse inputs longer than this before reading a byte. Default 256 KiB. */
  readonly maxBytes?: number;
  /** Deepest nesting of arrays, maps and tags. Default 32. */
  readonly maxDepth?: number;
  /** Most data items in the whole input. Default: `maxBytes` (every item takes a byte). */
  readonly maxItems?: number;
  /**
   * Require deterministic encoding (RFC 8949 §4.2.1 plus our integer rule): shortest
   * arguments, shortest exact floats, no float with a safe-integer value, canonical NaN, map
   * keys in strictly increasing bytewise order. Violations give `not-deterministic`.
   */
  readonly deterministic?: boolean;
  /**
   * Return byte strings as views into `bytes` instead of copies: no allocation per byte
   * string, but each view keeps all of `bytes` alive and sees any later change to it. For
   * callers that hold on to `bytes` anyway (a COSE message's parts are parts of the message).
   * Default false.
   */
  readonly byteStringViews?: boolean;
}

export const DEFAULT_MAX_BYTES = 256 * 1024;

/**
 * Strict decoder for untrusted bytes. Checks the size first, then reads exactly one data item
 * and refuses trailing bytes, indefinite lengths, duplicate map keys, map keys other than
 * integers and text, invalid UTF-8, simple values other than false/true/null, and any length
 * that cannot fit in the remaining input. Byte strings are copied out of `bytes` unless
 * `byteStringViews` is set.
 *
 * Throws only `WireFormatError` (`too-large`, `bad-cbor`, `not-deterministic`, `over-limit`;
 * `bad-input` when `bytes` is not a Uint8Array). It is the parsing primitive: the COSE and batch
 * layers above turn its errors into verdicts.
 */
export function decodeCbor(bytes: Uint8Array, options: CborDecodeOptions = {}): CborValue {
  if (!(bytes instanceof Uint8Array)) {
    throw new WireFormatError('bad-input', 'bytes: expected a Uint8Array');
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) {
    throw new WireFormatError('too-large', `${bytes.length} bytes exceed the limit of ${maxBytes}`);
  }
  if (bytes.length === 0) throw new WireFormatError('bad-cbor', 'empty input');
  const reader = cborReader(bytes, {
    maxItems: options.maxItems ?? maxBytes,
    maxDepth: options.maxDepth ?? 32,
    deterministic: options.deterministic ?? false,
    byteStringViews: options.byteStringViews ?? false,
  });
  const value = readItem(reader, 0);
  expectEnd(reader);
  return value;
}

/**
 * A position in CBOR bytes with the rules it is read under. `decodeCbor` reads any item with
 * it; readers of one fixed schema (the batch payload) read typed items with the same
 * primitives below, so a head, a float or a text string is checked one way everywhere.
 */
export interface CborReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  items: number;
  readonly maxItems: number;
  readonly maxDepth: number;
  readonly deterministic: boolean;
  readonly byteStringViews: boolean;
}

export function cborReader(
  bytes: Uint8Array,
  rules: Pick<CborReader, 'maxItems' | 'maxDepth' | 'deterministic' | 'byteStringViews'>,
): CborReader {
  return {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    pos: 0,
    items: 0,
    maxItems: rules.maxItems,
    maxDepth: rules.maxDepth,
    deterministic: rules.deterministic,
    byteStringViews: rules.byteStringViews,
  };
}

/** Refuses bytes after the one data item. */
export function expectEnd(r: CborReader): void {
  if (r.pos !== r.bytes.length) {
    throw new WireFormatError(
      'bad-cbor',
      `${r.bytes.length - r.pos} trailing bytes after the data item`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Short ASCII strings seen before, by a hash of their bytes. Batches repeat the same signal
 * names and units every second, so this returns an existing string instead of making one (a
 * string per name and unit per batch is a good part of the garbage a batch leaves). Cleared
 * when full, so it holds at most the last few thousand distinct strings.
 */
const asciiStrings = new Map<number, string>();
const MAX_ASCII_STRINGS = 4096;

/** `bytes[start..end)` as a string when every byte is ASCII, else undefined. */
function shortAscii(bytes: Uint8Array, start: number, end: number): string | undefined {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c >= 0x80) return undefined;
    hash = Math.imul(hash ^ c, 0x01000193);
  }
  const known = asciiStrings.get(hash);
  if (known !== undefined && known.length === end - start) {
    let i = 0;
    while (i < known.length && known.charCodeAt(i) === bytes[start + i]) i++;
    if (i === known.length) return known;
  }
  const made = String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  if (asciiStrings.size >= MAX_ASCII_STRINGS) asciiStrings.clear();
  asciiStrings.set(hash, made);
  return made;
}

export function need(r: CborReader, n: number): void {
  if (n > r.bytes.length - r.pos) {
    throw new WireFormatError('bad-cbor', `truncated: need ${n} bytes at offset ${r.pos}`);
  }
}

function notDeterministic(r: CborReader, what: string, at: number): never {
  throw new WireFormatError('not-deterministic', `${what} at offset ${at}`);
}

/** Reads the argument of a head whose initial byte was already consumed; returns number or bigint. */
export function readArgument(r: CborReader, info: number, at: number): number | bigint {
  if (info < 24) return info;
  // Byte arithmetic rather than DataView or BigInt where the value fits: every batch has
  // hundreds of these (times, deltas, scaled values) and an 8-byte time in its header.
  const b = r.bytes;
  const p = r.pos;
  let value: number;
  switch (info) {
    case 24:
      need(r, 1);
      value = b[p] as number;
      r.pos = p + 1;
      if (r.deterministic && value < 24) notDeterministic(r, 'argument not in shortest form', at);
      return value;
    case 25:
      need(r, 2);
      value = ((b[p] as number) << 8) | (b[p + 1] as number);
      r.pos = p + 2;
      if (r.deterministic && value < 0x100)
        notDeterministic(r, 'argument not in shortest form', at);
      return value;
    case 26:
      need(r, 4);
      value = r.view.getUint32(p);
      r.pos = p + 4;
      if (r.deterministic && value < 0x10000)
        notDeterministic(r, 'argument not in shortest form', at);
      return value;
    case 27: {
      need(r, 8);
      const high = r.view.getUint32(p);
      const low = r.view.getUint32(p + 4);
      r.pos = p + 8;
      if (r.deterministic && high === 0) notDeterministic(r, 'argument not in shortest form', at);
      // Below 2^53 (high word under 2^21) the value is a safe integer.
      return high < 0x200000 ? high * 0x100000000 + low : (BigInt(high) << 32n) | BigInt(low);
    }
    case 31:
      throw new WireFormatError('bad-cbor', `indefinite length at offset ${at} is not accepted`);
    default:
      throw new WireFormatError(
        'bad-cbor',
        `reserved additional information ${info} at offset ${at}`,
      );
  }
}

/** A length must fit in what is left of the input (each element takes at least `minEach` bytes). */
export function readLength(r: CborReader, info: number, at: number, minEach: number): number {
  const n = readArgument(r, info, at);
  if (typeof n === 'bigint' || n * minEach > r.bytes.length - r.pos) {
    throw new WireFormatError(
      'bad-cbor',
      `length ${String(n)} at offset ${at} exceeds the remaining input`,
    );
  }
  return n;
}

export function readItem(r: CborReader, depth: number): CborValue {
  if (++r.items > r.maxItems) {
    throw new WireFormatError('over-limit', `more than ${r.maxItems} data items`);
  }
  const at = r.pos;
  need(r, 1);
  const initial = r.bytes[r.pos++] as number;
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      return readArgument(r, info, at);
    case 1: {
      const n = readArgument(r, info, at);
      if (typeof n === 'bigint') return -1n - n;
      const v = -1 - n;
      return Number.isSafeInteger(v) ? v : -1n - BigInt(n);
    }
    case 2: {
      const len = readLength(r, info, at, 1);
      const start = r.pos;
      r.pos += len;
      return r.byteStringViews ? r.bytes.subarray(start, r.pos) : r.bytes.slice(start, r.pos);
    }
    case 3:
      return readTextBody(r, info, at);
    case 4: {
      const len = readLength(r, info, at, 1);
      enter(r, depth);
      const list: CborValue[] = new Array<CborValue>(len);
      for (let i = 0; i < len; i++) {
        // Fast path for the bulk of a batch: integers 0..23 and -1..-24 in one byte.
        const b = r.bytes[r.pos] as number;
        if (b < 0x18 || (b >= 0x20 && b < 0x38)) {
          if (++r.items > r.maxItems)
            throw new WireFormatError('over-limit', `more than ${r.maxItems} data items`);
          r.pos++;
          list[i] = b < 0x18 ? b : 0x1f - b;
        } else list[i] = readItem(r, depth + 1);
      }
      return list;
    }
    case 5:
      return readMap(r, info, at, depth);
    case 6: {
      const tag = readArgument(r, info, at);
      enter(r, depth);
      return new CborTag(tag, readItem(r, depth + 1));
    }
    default:
      return readSimpleOrFloat(r, info, at);
  }
}

/**
 * Bytes of a whole item by its initial byte, for integers, floats and false/true/null (0 for
 * anything else): what `skipItem` steps over without a look at the argument.
 */
const SCALAR_SIZE = (() => {
  const size = new Uint8Array(256);
  for (const base of [0x00, 0x20]) {
    for (let info = 0; info < 24; info++) size[base + info] = 1;
    for (let extra = 0; extra < 4; extra++) size[base + 24 + extra] = 1 + (1 << extra);
  }
  size[0xf4] = size[0xf5] = size[0xf6] = 1;
  size[0xf9] = 3;
  size[0xfa] = 5;
  size[0xfb] = 9;
  return size;
})();

/**
 * Moves past one data item without building it. Heads and lengths are checked, and that the
 * item fits in the input; contents are not (shortest forms, UTF-8, key order, duplicates): for
 * bytes that were verified before, read again for a part of them.
 */
export function skipItem(r: CborReader): void {
  const bytes = r.bytes;
  for (let pending = 1; pending > 0; pending--) {
    const at = r.pos;
    need(r, 1);
    const initial = bytes[at] as number;
    const scalar = SCALAR_SIZE[initial] as number;
    if (scalar > 0) {
      need(r, scalar);
      r.pos = at + scalar;
      continue;
    }
    r.pos = at + 1;
    const major = initial >> 5;
    if (major === 7)
      throw new WireFormatError('bad-cbor', `unsupported simple value at offset ${at}`);
    const n = readArgument(r, initial & 0x1f, at);
    if (typeof n === 'bigint')
      throw new WireFormatError('bad-cbor', `length at offset ${at} exceeds the remaining input`);
    if (major === 2 || major === 3) {
      need(r, n);
      r.pos += n;
    } else if (major === 4) pending += n;
    else if (major === 5) pending += 2 * n;
    else pending += 1; // a tag and its item
  }
}

/** The text string whose head's initial byte (at `at`, additional info `info`) was consumed. */
export function readTextBody(r: CborReader, info: number, at: number): string {
  const len = readLength(r, info, at, 1);
  const start = r.pos;
  r.pos += len;
  if (len <= 64) {
    const ascii = shortAscii(r.bytes, start, r.pos);
    if (ascii !== undefined) return ascii;
  }
  try {
    return utf8.decode(r.bytes.subarray(start, r.pos));
  } catch {
    throw new WireFormatError('bad-cbor', `invalid UTF-8 in text string at offset ${at}`);
  }
}

function enter(r: CborReader, depth: number): void {
  if (depth + 1 > r.maxDepth) {
    throw new WireFormatError('over-limit', `nesting deeper than ${r.maxDepth}`);
  }
}

function readMap(r: CborReader, info: number, at: number, depth: number): Map<CborKey, CborValue> {
  const len = readLength(r, info, at, 2);
  enter(r, depth);
  const map = new Map<CborKey, CborValue>();
  let previousStart = -1;
  let previousEnd = -1;
  for (let i = 0; i < len; i++) {
    const keyStart = r.pos;
    const key = readItem(r, depth + 1);
    if (typeof key !== 'number' && typeof key !== 'bigint' && typeof key !== 'string') {
      throw new WireFormatError(
        'bad-cbor',
        `map key at offset ${keyStart} is not an integer or text string`,
      );
    }
    if (r.deterministic && previousStart >= 0) {
      const order = compareRanges(r.bytes, previousStart, previousEnd, keyStart, r.pos);
      if (order === 0)
        throw new WireFormatError('bad-cbor', `duplicate map key at offset ${keyStart}`);
      if (order > 0) notDeterministic(r, 'map keys not in bytewise order', keyStart);
    }
    // Integer keys are decoded to one canonical JS value, so a Map hit is a true duplicate
    // even when a non-deterministic encoding spelled the same key with a longer head.
    if (map.has(key))
      throw new WireFormatError('bad-cbor', `duplicate map key at offset ${keyStart}`);
    previousStart = keyStart;
    previousEnd = r.pos;
    map.set(key, readItem(r, depth + 1));
  }
  return map;
}

/** compareBytes over two ranges of one buffer, without making views. */
export function compareRanges(
  b: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = (b[aStart + i] as number) - (b[bStart + i] as number);
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

export function readSimpleOrFloat(r: CborReader, info: number, at: number): CborValue {
  let value: number;
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 25: {
      need(r, 2);
      const bits = r.view.getUint16(r.pos);
      r.pos += 2;
      value = halfToNumber(bits);
      if (r.deterministic && Number.isNaN(value) && bits !== 0x7e00) {
        notDeterministic(r, 'NaN not encoded as f97e00', at);
      }
      break;
    }
    case 26:
      need(r, 4);
      value = r.view.getFloat32(r.pos);
      r.pos += 4;
      if (r.deterministic && halfBitsIfExact(value) !== undefined) {
        notDeterministic(r, 'float32 that fits in float16', at);
      }
      break;
    case 27:
      need(r, 8);
      value = r.view.getFloat64(r.pos);
      r.pos += 8;
      if (r.deterministic && (Math.fround(value) === value || Number.isNaN(value))) {
        notDeterministic(r, 'float64 that fits in a shorter float', at);
      }
      break;
    default:
      if (info === 31) throw new WireFormatError('bad-cbor', `unexpected break at offset ${at}`);
      throw new WireFormatError(
        'bad-cbor',
        `unsupported simple value (additional info ${info}) at offset ${at}`,
      );
  }
  if (r.deterministic && Number.isSafeInteger(value) && !Object.is(value, -0)) {
    notDeterministic(r, 'float with an integer value (must be encoded as an integer)', at);
  }
  return value;
}

/** RFC 8949 Appendix D. */
function halfToNumber(bits: number): number {
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  const magnitude =
    exp === 0
      ? mant * 2 ** -24
      : exp !== 31
        ? (mant + 1024) * 2 ** (exp - 25)
        : mant === 0
          ? Infinity
          : NaN;
  return bits & 0x8000 ? -magnitude : magnitude;
}
