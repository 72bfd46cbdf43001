import { WireFormatError } from './wire-format-error.js';
import { CborFloat, CborTag, type CborKey, type CborValue } from './types.js';

/**
 * Deterministic CBOR encoding (RFC 8949 §4.2.1): preferred serialisation (shortest argument),
 * definite lengths only, map keys sorted bytewise by their encoding, floats in the shortest of
 * 16/32/64 bits that keeps the value exactly. A safe-integer number always encodes as an
 * integer (−0 stays a float), so one value has one encoding.
 *
 * Throws `WireFormatError('bad-input')` naming the path of a value outside the data model
 * (undefined, functions, integers beyond 64 bits, unsupported map keys, duplicate keys).
 */
export function encodeCbor(value: CborValue): Uint8Array {
  // The shared buffer is taken only when free: encoding never calls back into encodeCbor,
  // but the guard keeps that an assumption nothing can break.
  const shared = scratchFree;
  scratchFree = false;
  const out = new ByteWriter(shared ? scratch : undefined);
  try {
    writeItem(out, value, '$', 0);
    return out.finish();
  } finally {
    if (shared) {
      // Keep what the writer grew to, up to a bound, for the next large value.
      if (out.buffer.length <= MAX_SCRATCH) scratch = out.buffer;
      scratchFree = true;
    }
  }
}

const MAX_ENCODE_DEPTH = 64;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * One output buffer reused by every encodeCbor call: a new typed array over 64 bytes lives
 * outside the V8 heap and costs microseconds, more than encoding a log entry. Each result is
 * one copy out of it (`finish`).
 */
let scratch: Uint8Array = new Uint8Array(1024);
let scratchFree = true;
const MAX_SCRATCH = 1 << 20;

class ByteWriter {
  // Map keys are encoded apart (writeMap): 32 bytes stays on the V8 heap and fits most keys.
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(buf: Uint8Array = new Uint8Array(32)) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get buffer(): Uint8Array {
    return this.buf;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Major type with its argument in the shortest form. */
  head(major: number, arg: number | bigint): void {
    const m = major << 5;
    if (typeof arg === 'bigint') {
      if (arg <= 0xffffffffn) return this.head(major, Number(arg));
      this.reserve(9);
      this.buf[this.pos] = m | 27;
      this.view.setBigUint64(this.pos + 1, arg);
      this.pos += 9;
      return;
    }
    if (arg < 24) this.byte(m | arg);
    else if (arg < 0x100) {
      this.reserve(2);
      this.buf[this.pos] = m | 24;
      this.buf[this.pos + 1] = arg;
      this.pos += 2;
    } else if (arg < 0x10000) {
      this.reserve(3);
      this.buf[this.pos] = m | 25;
      this.view.setUint16(this.pos + 1, arg);
      this.pos += 3;
    } else if (arg < 0x100000000) {
      this.reserve(5);
      this.buf[this.pos] = m | 26;
      this.view.setUint32(this.pos + 1, arg);
      this.pos += 5;
    } else {
      this.reserve(9);
      this.buf[this.pos] = m | 27;
      this.view.setBigUint64(this.pos + 1, BigInt(arg));
      this.pos += 9;
    }
  }

  float(v: number): void {
    const half = halfBitsIfExact(v);
    if (half !== undefined) {
      this.reserve(3);
      this.buf[this.pos] = 0xf9;
      this.view.setUint16(this.pos + 1, half);
      this.pos += 3;
    } else if (Math.fround(v) === v) {
      this.reserve(5);
      this.buf[this.pos] = 0xfa;
      this.view.setFloat32(this.pos + 1, v);
      this.pos += 5;
    } else {
      this.reserve(9);
      this.buf[this.pos] = 0xfb;
      this.view.setFloat64(this.pos + 1, v);
      this.pos += 9;
    }
  }

  /** A text string: ASCII copied char by char (no intermediate array), the rest via UTF-8. */
  text(v: string): void {
    const n = v.length;
    let ascii = n <= 256;
    for (let i = 0; ascii && i < n; i++) if (v.charCodeAt(i) >= 0x80) ascii = false;
    if (!ascii) {
      const b = utf8.encode(v);
      this.head(3, b.length);
      this.bytes(b);
      return;
    }
    this.head(3, n);
    this.reserve(n);
    for (let i = 0; i < n; i++) this.buf[this.pos + i] = v.charCodeAt(i);
    this.pos += n;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const utf8 = new TextEncoder();

function writeItem(out: ByteWriter, v: CborValue, path: string, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH) {
    throw new WireFormatError('bad-input', `${path}: nested deeper than ${MAX_ENCODE_DEPTH}`);
  }
  switch (typeof v) {
    case 'number':
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
        if (v >= 0) out.head(0, v);
        else out.head(1, -1 - v);
      } else out.float(v);
      return;
    case 'bigint':
      if (v >= 0n) {
        if (v > UINT64_MAX) throw new WireFormatError('bad-input', `${path}: integer above 2^64-1`);
        out.head(0, v);
      } else {
        if (-1n - v > UINT64_MAX) {
          throw new WireFormatError('bad-input', `${path}: integer below -2^64`);
        }
        out.head(1, -1n - v);
      }
      return;
    case 'string':
      out.text(v);
      return;
    case 'boolean':
      out.byte(v ? 0xf5 : 0xf4);
      return;
    case 'object':
      break;
    default:
      throw new WireFormatError('bad-input', `${path}: ${typeof v} is not a CBOR value`);
  }
  if (v === null) {
    out.byte(0xf6);
  } else if (v instanceof Uint8Array) {
    out.head(2, v.length);
    out.bytes(v);
  } else if (Array.isArray(v)) {
    const list = v as readonly CborValue[];
    out.head(4, list.length);
    for (let i = 0; i < list.length; i++) {
      const item = list[i] as CborValue;
      writeItem(out, item, isLeaf(item) ? path : `${path}[${i}]`, depth + 1);
    }
  } else if (v instanceof Map) {
    const map = v as Map<CborKey, CborValue>;
    if (!writeSmallKeyMap(out, map, path, depth)) writeMap(out, [...map.entries()], path, depth);
  } else if (v instanceof CborTag) {
    if (
      typeof v.tag === 'number'
        ? !Number.isSafeInteger(v.tag) || v.tag < 0
        : v.tag < 0n || v.tag > UINT64_MAX
    ) {
      throw new WireFormatError('bad-input', `${path}: tag must be an unsigned 64-bit integer`);
    }
    out.head(6, v.tag);
    writeItem(out, v.value, `${path}<tag ${String(v.tag)}>`, depth + 1);
  } else if (v instanceof CborFloat) {
    if (typeof v.value !== 'number')
      throw new WireFormatError('bad-input', `${path}: CborFloat needs a number`);
    out.float(v.value);
  } else {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new WireFormatError(
        'bad-input',
        `${path}: objects other than Map and plain records are not CBOR values`,
      );
    }
    writeMap(out, Object.entries(v), path, depth);
  }
}

/**
 * Values that always encode (so their path is never reported): their items need no path of
 * their own, which saves building a string per array item and map entry.
 */
function isLeaf(v: CborValue): boolean {
  const t = typeof v;
  return (
    t === 'number' || t === 'string' || t === 'boolean' || v === null || v instanceof Uint8Array
  );
}

/**
 * A map whose keys are integers 0 to 23 inserted in increasing order, as every map of the wire
 * format is: each key encodes as the one byte of its value, so that order is already the
 * bytewise order of their encodings and nothing needs sorting. Returns false, having written
 * nothing, for any other map.
 */
function writeSmallKeyMap(
  out: ByteWriter,
  map: ReadonlyMap<CborKey, CborValue>,
  path: string,
  depth: number,
): boolean {
  let previous = -1;
  for (const k of map.keys()) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k <= previous || k > 23) return false;
    previous = k;
  }
  out.head(5, map.size);
  // By key, not entries: an entry is an array allocated per key.
  for (const k of map.keys()) {
    const value = map.get(k);
    if (value === undefined) {
      throw new WireFormatError('bad-input', `${path}.${String(k)}: undefined is not a CBOR value`);
    }
    out.byte(k as number);
    writeItem(out, value, isLeaf(value) ? path : `${path}.${String(k)}`, depth + 1);
  }
  return true;
}

function writeMap(
  out: ByteWriter,
  entries: [CborKey, CborValue][],
  path: string,
  depth: number,
): void {
  const encoded: { key: Uint8Array; value: CborValue; label: string }[] = [];
  for (const [k, value] of entries) {
    if (typeof k !== 'number' && typeof k !== 'bigint' && typeof k !== 'string') {
      throw new WireFormatError('bad-input', `${path}: map keys must be integers or strings`);
    }
    if (typeof k === 'number' && !Number.isSafeInteger(k)) {
      throw new WireFormatError('bad-input', `${path}: map key ${k} is not an integer`);
    }
    if (value === undefined) {
      throw new WireFormatError('bad-input', `${path}.${String(k)}: undefined is not a CBOR value`);
    }
    const keyOut = new ByteWriter();
    writeItem(keyOut, k, path, depth + 1);
    encoded.push({ key: keyOut.finish(), value, label: `${path}.${String(k)}` });
  }
  encoded.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < encoded.length; i++) {
    if (
      compareBytes(
        (encoded[i - 1] as { key: Uint8Array }).key,
        (encoded[i] as { key: Uint8Array }).key,
      ) === 0
    ) {
      throw new WireFormatError('bad-input', `${path}: duplicate map key`);
    }
  }
  out.head(5, encoded.length);
  for (const e of encoded) {
    out.bytes(e.key);
    writeItem(out, e.value, e.label, depth + 1);
  }
}

/** Bytewise lexicographic order, the map key order of RFC 8949 §4.2.1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE 754 binary16 bits of `v` when it converts exactly, else undefined. */
export function halfBitsIfExact(v: number): number | undefined {
  if (Number.isNaN(v)) return 0x7e00;
  if (Math.fround(v) !== v) return undefined;
  f32[0] = v;
  const bits = u32[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00; // infinity (NaN handled above)
  if (exp === 0 && mant === 0) return sign; // ±0
  const e = exp - 127;
  if (e >= -14 && e <= 15) {
    if ((mant & 0x1fff) !== 0) return undefined;
    return sign | ((e + 15) << 10) | (mant >>> 13);
  }
  if (e >= -24 && e < -14) {
    // subnormal half: value = m * 2^-24 with m < 1024
    const m = Math.abs(v) * 2 ** 24;
    if (!Number.isInteger(m)) return undefined;
    return sign | m;
  }
  return undefined;
}
