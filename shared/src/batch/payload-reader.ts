/**
 * Batch payload from its CBOR bytes, read straight into the payload's types: the schema says
 * what comes next, so no generic map or array is built on the way (every verified batch goes
 * through here; building the generic tree first took two thirds of the time). Parsing is strict:
 * deterministic encoding (RFC 8949 §4.2.1), every key known, every field typed and in range, so
 * a verified batch is also a well-formed one. The key tables are in payload-codec.ts.
 *
 * Errors come in reading order: the first problem met is the one reported. CBOR-level ones
 * (`bad-cbor`, `not-deterministic`) are prefixed `payload: `; field ones (`bad-field`,
 * `bad-version`) name the field's path.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  cborReader,
  compareRanges,
  expectEnd,
  need,
  readArgument,
  readItem,
  readLength,
  readSimpleOrFloat,
  readTextBody,
  skipItem,
  type CborReader,
} from '../cbor/decode.js';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { isValidVin } from '../vin/vin.js';
import {
  BATCH_FORMAT_VERSION,
  CLOCK_KEY,
  COLUMN_KEY,
  COLUMN_TYPE,
  DROPPED_KEY,
  EVENT_KEY,
  JUMP_KEY,
  MAX_EXPONENT,
  MIN_EXPONENT,
  PAYLOAD_KEY,
  TRACE_KEY,
} from './payload-codec.js';
import type {
  BatchClock,
  BatchEvent,
  BatchKind,
  BatchPayload,
  ClockJumpRecord,
  ClockSource,
  ColumnValues,
  DroppedBatch,
  EventPriority,
  SignalColumn,
} from './types.js';

const BATCH_KINDS: readonly BatchKind[] = ['routine', 'event', 'trace'];
const CLOCK_SOURCES: readonly ClockSource[] = ['gnss', 'ntp', 'system', 'rtc', 'unsynced'];
const PRIORITIES: readonly EventPriority[] = ['critical', 'high', 'normal'];
const MAX_NAME_BYTES = 256;
const MAX_UNIT_BYTES = 32;
const MAX_TEXT_BYTES = 4096;
/** Deepest item read generically (only to name a wrong version or key in an error). */
const MAX_DEPTH = 6;

/**
 * Reads a batch payload (deterministic CBOR). Throws WireFormatError: `bad-version`,
 * `bad-field` naming the field, or a CBOR-level code prefixed `payload: `.
 */
export function readBatchPayload(bytes: Uint8Array): BatchPayload {
  return readWhole(bytes, readPayload);
}

/** Runs `read` over `bytes`, which it must read to the end; CBOR-level errors get `payload: `. */
function readWhole<T>(bytes: Uint8Array, read: (r: CborReader) => T): T {
  const r = cborReader(bytes, {
    maxItems: bytes.length,
    maxDepth: MAX_DEPTH,
    deterministic: true,
    byteStringViews: false,
  });
  try {
    const value = read(r);
    expectEnd(r);
    return value;
  } catch (err) {
    if (!(err instanceof WireFormatError) || err.code === 'bad-field' || err.code === 'bad-version')
      throw err;
    throw new WireFormatError(err.code, `payload: ${err.message}`, { cause: err });
  }
}

// ---------------------------------------------------------------- errors and text rules

function fail(path: string, what: string): never {
  throw new WireFormatError('bad-field', `${path}: ${what}`);
}

const indexed = (path: string, index: number | undefined) =>
  index === undefined ? path : `${path}[${index}]`;

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Whether `s` has at most `maxBytes` UTF-8 bytes, without allocating: a string has at most 3
 * UTF-8 bytes per UTF-16 unit, so only long ones are measured.
 */
const fits = (s: string, maxBytes: number): boolean =>
  s.length * 3 <= maxBytes || utf8Length(s) <= maxBytes;

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

// ---------------------------------------------------------------- typed items
// Each reads one item of the expected type and returns a sentinel (-1, NaN, undefined) when the
// item is of another type, so the caller builds the field's path only on failure. Malformed
// CBOR throws from the shared primitives wherever it is met; an item of another type is first
// read whole (`otherType`), so malformed bytes are `bad-cbor` rather than a wrong type.

function initialByte(r: CborReader): number {
  need(r, 1);
  return r.bytes[r.pos++] as number;
}

/** `sentinel`, once the item at `at` (not of the expected type) proved well-formed. */
function otherType<T>(r: CborReader, at: number, sentinel: T): T {
  r.pos = at;
  readItem(r, 1);
  return sentinel;
}

/** An unsigned integer below 2^53, else -1. */
function uintOr(r: CborReader): number {
  const at = r.pos;
  const b = initialByte(r);
  if (b < 0x18) return b;
  if (b >> 5 !== 0) return otherType(r, at, -1);
  const v = readArgument(r, b & 0x1f, at);
  return typeof v === 'number' ? v : -1;
}

/** An integer within ±2^53, else NaN. */
function intOr(r: CborReader): number {
  const at = r.pos;
  const b = initialByte(r);
  if (b < 0x18) return b;
  if (b >= 0x20 && b < 0x38) return 0x1f - b;
  const major = b >> 5;
  if (major > 1) return otherType(r, at, NaN);
  const n = readArgument(r, b & 0x1f, at);
  if (typeof n !== 'number') return NaN;
  if (major === 0) return n;
  const v = -1 - n;
  return Number.isSafeInteger(v) ? v : NaN;
}

/** A number (an integer within ±2^53 or a float), else undefined. */
function numberOr(r: CborReader): number | undefined {
  need(r, 1);
  const b = r.bytes[r.pos] as number;
  if (b >> 5 === 7) {
    r.pos++;
    const v = readSimpleOrFloat(r, b & 0x1f, r.pos - 1);
    return typeof v === 'number' ? v : undefined;
  }
  const v = intOr(r);
  return Number.isNaN(v) ? undefined : v;
}

/** A text string (valid UTF-8), else undefined. */
function textOr(r: CborReader): string | undefined {
  const at = r.pos;
  const b = initialByte(r);
  return b >> 5 === 3 ? readTextBody(r, b & 0x1f, at) : otherType(r, at, undefined);
}

/** A byte string of exactly `length` bytes (copied), else undefined. */
function bytesOr(r: CborReader, length: number): Uint8Array | undefined {
  const at = r.pos;
  const b = initialByte(r);
  if (b >> 5 !== 2) return otherType(r, at, undefined);
  const n = readLength(r, b & 0x1f, at, 1);
  const start = r.pos;
  r.pos += n;
  return n === length ? r.bytes.slice(start, r.pos) : undefined;
}

/** false, true, else undefined. */
function booleanOr(r: CborReader): boolean | undefined {
  const at = r.pos;
  const b = initialByte(r);
  return b === 0xf4 ? false : b === 0xf5 ? true : otherType(r, at, undefined);
}

/** An array's length (its items follow), else -1. */
function arrayOr(r: CborReader): number {
  const at = r.pos;
  const b = initialByte(r);
  return b >> 5 === 4 ? readLength(r, b & 0x1f, at, 1) : otherType(r, at, -1);
}

/** A map's number of entries (its keys and values follow), else -1. */
function mapOr(r: CborReader): number {
  const at = r.pos;
  const b = initialByte(r);
  return b >> 5 === 5 ? readLength(r, b & 0x1f, at, 2) : otherType(r, at, -1);
}

/** Fails with what is wrong with `s` as text of at most `maxBytes` (non-empty and clean when `strict`). */
function textFailure(s: string | undefined, path: string, maxBytes: number, strict = false): never {
  if (s === undefined) fail(path, 'expected a text string');
  if (!fits(s, maxBytes)) fail(path, `longer than ${maxBytes} bytes`);
  if (strict && (s.length === 0 || hasControlCharacter(s)))
    fail(path, 'expected non-empty text without control characters');
  throw new Error(`textFailure called on valid text at ${path}`);
}

function text(r: CborReader, path: string, maxBytes: number): string {
  const s = textOr(r);
  if (s === undefined || !fits(s, maxBytes)) textFailure(s, path, maxBytes);
  return s;
}

function nonEmptyText(r: CborReader, path: string, maxBytes: number): string {
  const s = textOr(r);
  if (s === undefined || s.length === 0 || !fits(s, maxBytes) || hasControlCharacter(s))
    textFailure(s, path, maxBytes, true);
  return s;
}

function uint(r: CborReader, path: string): number {
  const v = uintOr(r);
  if (v < 0) fail(path, 'expected an unsigned integer below 2^53');
  return v;
}

function int(r: CborReader, path: string): number {
  const v = intOr(r);
  if (Number.isNaN(v)) fail(path, 'expected an integer within ±2^53');
  return v;
}

function oneOf<T extends string>(r: CborReader, path: string, allowed: readonly T[]): T {
  const s = textOr(r);
  if (s === undefined || !(allowed as readonly string[]).includes(s))
    fail(path, `expected one of ${allowed.join(', ')}`);
  return s as T;
}

function bytes(r: CborReader, path: string, length: number): Uint8Array {
  const v = bytesOr(r, length);
  if (v === undefined) fail(path, `expected ${length} bytes`);
  return v;
}

function list(r: CborReader, path: string): number {
  const n = arrayOr(r);
  if (n < 0) fail(path, 'expected an array');
  return n;
}

// ---------------------------------------------------------------- integer-keyed maps

interface KeyTable {
  readonly keys: Readonly<Record<string, number>>;
  /** A bit per key the table has (keys are below 31). */
  readonly allowed: number;
  readonly required: readonly (readonly [string, number])[];
}

function keyTable(
  keys: Readonly<Record<string, number>>,
  optional: readonly number[] = [],
): KeyTable {
  return {
    keys,
    allowed: Object.values(keys).reduce((mask, k) => mask | (1 << k), 0),
    required: Object.entries(keys).filter(([, k]) => !optional.includes(k)),
  };
}

const PAYLOAD_TABLE = keyTable(PAYLOAD_KEY);
const CLOCK_TABLE = keyTable(CLOCK_KEY);
const JUMP_TABLE = keyTable(JUMP_KEY);
const COLUMN_TABLE = keyTable(COLUMN_KEY, [COLUMN_KEY.exponent]);
const EVENT_TABLE = keyTable(EVENT_KEY, [EVENT_KEY.trace]);
const TRACE_TABLE = keyTable(TRACE_KEY, [TRACE_KEY.hash]);
const DROPPED_TABLE = keyTable(DROPPED_KEY);

/** The entries of the map at `r.pos` (its keys then follow), else the map's path fails. */
function entries(r: CborReader, path: string, index?: number): number {
  const n = mapOr(r);
  if (n < 0) fail(indexed(path, index), 'expected a map');
  return n;
}

/**
 * The next key of an integer-keyed map whose previous key was `previous` (-1 for the first).
 * Deterministic order for unsigned keys is numeric order: a smaller key is out of order
 * (`not-deterministic`), an equal one a duplicate (`bad-cbor`). Any key not in the table is
 * unknown (`bad-field`).
 */
function nextKey(
  r: CborReader,
  table: KeyTable,
  previous: number,
  path: string,
  index?: number,
): number {
  const at = r.pos;
  const b = initialByte(r);
  let key: number | bigint | undefined;
  if (b < 0x18) key = b;
  else if (b >> 5 === 0) key = readArgument(r, b & 0x1f, at);
  if (typeof key !== 'number') {
    r.pos = at;
    const other = readItem(r, 1);
    if (typeof other !== 'number' && typeof other !== 'bigint' && typeof other !== 'string')
      throw new WireFormatError(
        'bad-cbor',
        `map key at offset ${at} is not an integer or text string`,
      );
    return unknownKey(path, index, other);
  }
  if (key <= previous) {
    if (key === previous)
      throw new WireFormatError('bad-cbor', `duplicate map key at offset ${at}`);
    throw new WireFormatError(
      'not-deterministic',
      `map keys not in bytewise order at offset ${at}`,
    );
  }
  if (key > 30 || (table.allowed & (1 << key)) === 0) unknownKey(path, index, key);
  return key;
}

function unknownKey(path: string, index: number | undefined, key: number | bigint | string): never {
  fail(
    indexed(path, index),
    `unknown key ${JSON.stringify(typeof key === 'bigint' ? String(key) : key)}`,
  );
}

/** Fails on the first key of the table that `seen` (a bit per key) lacks. */
function checkRequired(table: KeyTable, seen: number, path: string, index?: number): void {
  for (const [name, k] of table.required)
    if ((seen & (1 << k)) === 0) fail(`${indexed(path, index)}.${name}`, 'missing');
}

// ---------------------------------------------------------------- the payload

/**
 * VINs that passed `isBatchVin`: a device sends its one VIN in every batch, and checking it
 * (check digit, region, model years) costs more than the rest of the header. Cleared when full.
 */
const batchVins = new Set<string>();

/** A valid upper-case VIN, as a batch must carry it. */
function isBatchVin(vin: string): boolean {
  if (batchVins.has(vin)) return true;
  if (!(isValidVin(vin) && vin === vin.toUpperCase())) return false;
  if (batchVins.size >= 4096) batchVins.clear();
  batchVins.add(vin);
  return true;
}

function badVersion(version: unknown): never {
  throw new WireFormatError(
    'bad-version',
    `payload version ${JSON.stringify(typeof version === 'bigint' ? String(version) : (version ?? null))} is not ${BATCH_FORMAT_VERSION}`,
  );
}

function readPayload(r: CborReader): BatchPayload {
  const n = entries(r, 'payload');
  // The version's key is the smallest, so it comes first; it is checked before anything else.
  if (n === 0) badVersion(null);
  need(r, 1);
  if ((r.bytes[r.pos] as number) >> 5 !== 0) badVersion(null);
  let previous = nextKey(r, PAYLOAD_TABLE, -1, 'payload');
  if (previous !== PAYLOAD_KEY.version) badVersion(null);
  if (r.bytes[r.pos] === BATCH_FORMAT_VERSION) r.pos++;
  else {
    const version = readItem(r, 1);
    if (version !== BATCH_FORMAT_VERSION) badVersion(version);
  }
  let seen = 1 << PAYLOAD_KEY.version;
  let kind: BatchKind | undefined;
  let deviceId: string | undefined;
  let vin: string | null | undefined;
  let seq: number | undefined;
  let prev: Uint8Array | undefined;
  let start: number | undefined;
  let clock: BatchClock | undefined;
  let signals: SignalColumn[] | undefined;
  let events: BatchEvent[] | undefined;
  let dropped: DroppedBatch[] | undefined;
  for (let e = 1; e < n; e++) {
    const key = nextKey(r, PAYLOAD_TABLE, previous, 'payload');
    previous = key;
    seen |= 1 << key;
    switch (key) {
      case PAYLOAD_KEY.kind:
        kind = oneOf(r, 'kind', BATCH_KINDS);
        break;
      case PAYLOAD_KEY.deviceId:
        deviceId = bytesToHex(bytes(r, 'deviceId', 16));
        break;
      case PAYLOAD_KEY.vin: {
        if (r.bytes[r.pos] === 0xf6) {
          r.pos++;
          vin = null;
          break;
        }
        const s = textOr(r);
        if (s === undefined || !isBatchVin(s))
          fail('vin', 'expected null or a valid upper-case 17-character VIN');
        vin = s;
        break;
      }
      case PAYLOAD_KEY.seq:
        seq = uint(r, 'seq');
        break;
      case PAYLOAD_KEY.prev:
        prev = bytes(r, 'prev', 32);
        if (seq === 0 && prev.some((b) => b !== 0)) fail('prev', 'must be 32 zero bytes at seq 0');
        break;
      case PAYLOAD_KEY.start:
        start = uint(r, 'start');
        break;
      case PAYLOAD_KEY.clock:
        clock = readClock(r);
        break;
      case PAYLOAD_KEY.signals: {
        if (start === undefined) fail('payload.start', 'missing');
        const count = list(r, 'signals');
        signals = new Array<SignalColumn>(count);
        for (let i = 0; i < count; i++) signals[i] = readColumn(r, i, start);
        if (count > 1) {
          const names = new Set<string>();
          for (const c of signals) {
            if (names.has(c.name)) fail('signals', `column ${c.name} appears twice`);
            names.add(c.name);
          }
        }
        break;
      }
      case PAYLOAD_KEY.events: {
        const count = list(r, 'events');
        events = new Array<BatchEvent>(count);
        for (let i = 0; i < count; i++) events[i] = readEvent(r, i);
        break;
      }
      case PAYLOAD_KEY.dropped: {
        const count = list(r, 'dropped');
        dropped = new Array<DroppedBatch>(count);
        for (let i = 0; i < count; i++) dropped[i] = readDropped(r, i);
        break;
      }
    }
  }
  checkRequired(PAYLOAD_TABLE, seen, 'payload');
  return {
    version: BATCH_FORMAT_VERSION,
    kind: kind as BatchKind,
    deviceId: deviceId as string,
    vin: vin as string | null,
    seq: seq as number,
    prev: prev as Uint8Array,
    start: start as number,
    clock: clock as BatchClock,
    signals: signals as SignalColumn[],
    events: events as BatchEvent[],
    dropped: dropped as DroppedBatch[],
  };
}

/** A column of a stored payload and where its samples start among the batch's samples. */
export interface PayloadColumn {
  readonly column: SignalColumn;
  /** Samples in the columns before this one (every column counts, wanted or not). */
  readonly firstSample: number;
}

/**
 * The start and the columns named in `wanted` (all when undefined) of payload bytes that were
 * verified before (a stored batch): for queries that want a few signals of batches that may
 * carry a hundred. Wanted columns are read and checked as `readBatchPayload` reads them; the
 * others and the other fields are skipped, only their heads followed. Throws WireFormatError.
 */
export function readPayloadColumns(
  bytes: Uint8Array,
  wanted?: ReadonlySet<string>,
): { readonly start: number; readonly columns: readonly PayloadColumn[] } {
  return readWhole(bytes, (r) => readColumnsOf(r, wanted));
}

function readColumnsOf(
  r: CborReader,
  wanted: ReadonlySet<string> | undefined,
): { readonly start: number; readonly columns: readonly PayloadColumn[] } {
  const n = entries(r, 'payload');
  let previous = -1;
  let start: number | undefined;
  const columns: PayloadColumn[] = [];
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, PAYLOAD_TABLE, previous, 'payload');
    previous = key;
    if (key === PAYLOAD_KEY.start) start = uint(r, 'start');
    else if (key !== PAYLOAD_KEY.signals) skipItem(r);
    else {
      if (start === undefined) fail('payload.start', 'missing');
      const count = list(r, 'signals');
      let firstSample = 0;
      for (let i = 0; i < count; i++) {
        const columnStart = r.pos;
        const rest = columnEntriesAfterName(r, i);
        const name = textOr(r);
        if (name === undefined) fail(at(i, 'name'), 'expected a text string');
        if (wanted === undefined || wanted.has(name)) {
          r.pos = columnStart;
          const column = readColumn(r, i, start);
          columns.push({ column, firstSample });
          firstSample += column.timeDeltas.length;
        } else firstSample += skipColumnEntries(r, i, rest);
      }
    }
  }
  if (start === undefined) fail('payload.start', 'missing');
  return { start, columns };
}

/**
 * Reads a column's map head and the key of its first entry, the name (key 0, the smallest),
 * whose value comes next; returns how many entries follow the name.
 */
function columnEntriesAfterName(r: CborReader, i: number): number {
  const n = entries(r, 'signals', i);
  if (n === 0 || nextKey(r, COLUMN_TABLE, -1, 'signals', i) !== COLUMN_KEY.name)
    fail(at(i, 'name'), 'missing');
  return n - 1;
}

/** Skips a column's `count` entries after its name, following only heads; returns its samples. */
function skipColumnEntries(r: CborReader, i: number, count: number): number {
  let previous: number = COLUMN_KEY.name;
  let samples = 0;
  for (let e = 0; e < count; e++) {
    const key = nextKey(r, COLUMN_TABLE, previous, 'signals', i);
    previous = key;
    if (key === COLUMN_KEY.timeDeltas) {
      const arrayStart = r.pos;
      samples = list(r, at(i, 'timeDeltas'));
      r.pos = arrayStart;
    }
    skipItem(r);
  }
  return samples;
}

function readClock(r: CborReader): BatchClock {
  const n = entries(r, 'clock');
  let previous = -1;
  let seen = 0;
  let source: ClockSource | undefined;
  let jumps: ClockJumpRecord[] | undefined;
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, CLOCK_TABLE, previous, 'clock');
    previous = key;
    seen |= 1 << key;
    if (key === CLOCK_KEY.source) source = oneOf(r, 'clock.source', CLOCK_SOURCES);
    else {
      const count = list(r, 'clock.jumps');
      jumps = new Array<ClockJumpRecord>(count);
      for (let i = 0; i < count; i++) jumps[i] = readJump(r, `clock.jumps[${i}]`);
    }
  }
  checkRequired(CLOCK_TABLE, seen, 'clock');
  return { source: source as ClockSource, jumps: jumps as ClockJumpRecord[] };
}

function readJump(r: CborReader, path: string): ClockJumpRecord {
  const n = entries(r, path);
  let previous = -1;
  let seen = 0;
  const jump = { at: 0, deltaMs: 0, from: 'gnss' as ClockSource, to: 'gnss' as ClockSource };
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, JUMP_TABLE, previous, path);
    previous = key;
    seen |= 1 << key;
    if (key === JUMP_KEY.at) jump.at = uint(r, `${path}.at`);
    else if (key === JUMP_KEY.deltaMs) jump.deltaMs = int(r, `${path}.deltaMs`);
    else if (key === JUMP_KEY.from) jump.from = oneOf(r, `${path}.from`, CLOCK_SOURCES);
    else jump.to = oneOf(r, `${path}.to`, CLOCK_SOURCES);
  }
  checkRequired(JUMP_TABLE, seen, path);
  return jump;
}

/** The path of column `i`'s field, built only on failure: columns are read for every batch. */
const at = (i: number, field: string) => `signals[${i}].${field}`;

function readColumn(r: CborReader, i: number, start: number): SignalColumn {
  const n = entries(r, 'signals', i);
  let previous = -1;
  let seen = 0;
  let name = '';
  let unit = '';
  let timeDeltas: number[] | undefined;
  let type = -1;
  let values: unknown[] | undefined;
  let exponent: number | undefined;
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, COLUMN_TABLE, previous, 'signals', i);
    previous = key;
    seen |= 1 << key;
    switch (key) {
      case COLUMN_KEY.name: {
        const s = textOr(r);
        if (s === undefined || s.length === 0 || !fits(s, MAX_NAME_BYTES) || hasControlCharacter(s))
          textFailure(s, at(i, 'name'), MAX_NAME_BYTES, true);
        name = s;
        break;
      }
      case COLUMN_KEY.unit: {
        // VSS enumerations and strings (a gear, a fix quality, a DTC list) have no unit: '' is valid.
        const s = textOr(r);
        if (s === undefined || !fits(s, MAX_UNIT_BYTES))
          textFailure(s, at(i, 'unit'), MAX_UNIT_BYTES);
        if (hasControlCharacter(s)) fail(at(i, 'unit'), 'expected text without control characters');
        unit = s;
        break;
      }
      case COLUMN_KEY.timeDeltas:
        timeDeltas = readTimeDeltas(r, i, start);
        break;
      case COLUMN_KEY.type:
        type = uintOr(r);
        if (type < COLUMN_TYPE.scaled || type > COLUMN_TYPE.boolean)
          fail(at(i, 'type'), 'expected 0 (scaled), 1 (float), 2 (string) or 3 (boolean)');
        break;
      case COLUMN_KEY.values: {
        if (timeDeltas === undefined) fail(at(i, 'timeDeltas'), 'missing');
        if (type < 0) fail(at(i, 'type'), 'missing');
        const count = list(r, at(i, 'values'));
        if (count !== timeDeltas.length)
          fail(at(i, 'values'), `has ${count} values for ${timeDeltas.length} times`);
        values = readValues(r, i, type, count);
        break;
      }
      case COLUMN_KEY.exponent:
        if (type !== COLUMN_TYPE.scaled) fail(at(i, 'exponent'), 'only scaled columns have one');
        exponent = int(r, at(i, 'exponent'));
        if (exponent < MIN_EXPONENT || exponent > MAX_EXPONENT)
          fail(at(i, 'exponent'), `expected ${MIN_EXPONENT}..${MAX_EXPONENT}`);
        break;
    }
  }
  checkRequired(COLUMN_TABLE, seen, 'signals', i);
  let columnValues: ColumnValues;
  switch (type) {
    case COLUMN_TYPE.scaled:
      if (exponent === undefined) fail(at(i, 'exponent'), 'expected an integer within ±2^53');
      columnValues = { type: 'scaled', exponent, integers: values as number[] };
      break;
    case COLUMN_TYPE.float:
      columnValues = { type: 'float', numbers: values as number[] };
      break;
    case COLUMN_TYPE.string:
      columnValues = { type: 'string', strings: values as string[] };
      break;
    default:
      columnValues = { type: 'boolean', booleans: values as boolean[] };
  }
  return { name, unit, timeDeltas: timeDeltas as number[], values: columnValues };
}

function readTimeDeltas(r: CborReader, i: number, start: number): number[] {
  const count = list(r, at(i, 'timeDeltas'));
  const deltas = new Array<number>(count);
  let span = 0;
  for (let j = 0; j < count; j++) {
    const d = uintOr(r);
    if (d < 0) fail(at(i, `timeDeltas[${j}]`), 'expected an unsigned integer below 2^53');
    deltas[j] = d;
    span += d;
  }
  // Deltas are unsigned, so times only grow: when the last is safe, all are.
  if (!Number.isSafeInteger(start + span)) {
    let time = start;
    for (let j = 0; j < count; j++) {
      time += deltas[j] as number;
      if (!Number.isSafeInteger(time)) fail(at(i, `timeDeltas[${j}]`), 'time beyond 2^53 ms');
    }
  }
  if (count === 0) fail(at(i, 'timeDeltas'), 'a column holds at least one sample');
  return deltas;
}

/** A column's values; one loop per type so each stays monomorphic (they run for every sample). */
function readValues(r: CborReader, i: number, type: number, count: number): unknown[] {
  switch (type) {
    case COLUMN_TYPE.scaled: {
      const out = new Array<number>(count);
      for (let j = 0; j < count; j++) {
        const x = intOr(r);
        if (Number.isNaN(x)) fail(at(i, `values[${j}]`), 'expected an integer within ±2^53');
        out[j] = x;
      }
      return out;
    }
    case COLUMN_TYPE.float: {
      const out = new Array<number>(count);
      for (let j = 0; j < count; j++) {
        const x = numberOr(r);
        if (x === undefined) fail(at(i, `values[${j}]`), 'expected a number');
        out[j] = x;
      }
      return out;
    }
    case COLUMN_TYPE.string: {
      const out = new Array<string>(count);
      for (let j = 0; j < count; j++) {
        const s = textOr(r);
        if (s === undefined || !fits(s, MAX_TEXT_BYTES))
          textFailure(s, at(i, `values[${j}]`), MAX_TEXT_BYTES);
        out[j] = s;
      }
      return out;
    }
    default: {
      const out = new Array<boolean>(count);
      for (let j = 0; j < count; j++) {
        const x = booleanOr(r);
        if (x === undefined) fail(at(i, `values[${j}]`), 'expected a boolean');
        out[j] = x;
      }
      return out;
    }
  }
}

function readEvent(r: CborReader, i: number): BatchEvent {
  const path = `events[${i}]`;
  const n = entries(r, path);
  let previous = -1;
  let seen = 0;
  let type = '';
  let priority: EventPriority = 'normal';
  let start = 0;
  let end = 0;
  let data: Record<string, number | string> = {};
  let trace: BatchEvent['trace'];
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, EVENT_TABLE, previous, path);
    previous = key;
    seen |= 1 << key;
    switch (key) {
      case EVENT_KEY.type:
        type = nonEmptyText(r, `${path}.type`, 64);
        break;
      case EVENT_KEY.priority:
        priority = oneOf(r, `${path}.priority`, PRIORITIES);
        break;
      case EVENT_KEY.start:
        start = uint(r, `${path}.start`);
        break;
      case EVENT_KEY.end:
        end = uint(r, `${path}.end`);
        if ((seen & (1 << EVENT_KEY.start)) !== 0 && end < start)
          fail(`${path}.end`, 'before start');
        break;
      case EVENT_KEY.data:
        data = readEventData(r, `${path}.data`);
        break;
      case EVENT_KEY.trace:
        trace = readTrace(r, `${path}.trace`);
        break;
    }
  }
  checkRequired(EVENT_TABLE, seen, path);
  const event: BatchEvent = { type, priority, start, end, data };
  return trace === undefined ? event : { ...event, trace };
}

/** Text keys (1..64 bytes) in deterministic order, each a number or text of up to 1 KiB. */
function readEventData(r: CborReader, path: string): Record<string, number | string> {
  const n = entries(r, path);
  const data: Record<string, number | string> = {};
  let previousStart = -1;
  let previousEnd = -1;
  for (let e = 0; e < n; e++) {
    const keyStart = r.pos;
    const k = textOr(r);
    if (k === undefined || k.length === 0 || utf8Length(k) > 64)
      fail(path, 'keys are text of 1..64 bytes');
    if (previousStart >= 0) {
      const order = compareRanges(r.bytes, previousStart, previousEnd, keyStart, r.pos);
      if (order === 0)
        throw new WireFormatError('bad-cbor', `duplicate map key at offset ${keyStart}`);
      if (order > 0)
        throw new WireFormatError(
          'not-deterministic',
          `map keys not in bytewise order at offset ${keyStart}`,
        );
    }
    previousStart = keyStart;
    previousEnd = r.pos;
    if (k === '__proto__') fail(path, 'key __proto__ is not allowed');
    need(r, 1);
    if ((r.bytes[r.pos] as number) >> 5 === 3) data[k] = text(r, `${path}.${k}`, 1024);
    else {
      const x = numberOr(r);
      if (x === undefined) fail(`${path}.${k}`, 'expected a number or text');
      data[k] = x;
    }
  }
  return data;
}

function readTrace(r: CborReader, path: string): NonNullable<BatchEvent['trace']> {
  const n = entries(r, path);
  let previous = -1;
  let seen = 0;
  let id = '';
  let hash: Uint8Array | undefined;
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, TRACE_TABLE, previous, path);
    previous = key;
    seen |= 1 << key;
    if (key === TRACE_KEY.id) id = nonEmptyText(r, `${path}.id`, 64);
    else hash = bytes(r, `${path}.hash`, 32);
  }
  checkRequired(TRACE_TABLE, seen, path);
  return hash === undefined ? { id } : { id, hash };
}

function readDropped(r: CborReader, i: number): DroppedBatch {
  const path = `dropped[${i}]`;
  const n = entries(r, path);
  let previous = -1;
  let seen = 0;
  const d: { -readonly [K in keyof DroppedBatch]: DroppedBatch[K] } = {
    seq: 0,
    hash: new Uint8Array(0),
    samples: 0,
    start: 0,
    end: 0,
  };
  for (let e = 0; e < n; e++) {
    const key = nextKey(r, DROPPED_TABLE, previous, path);
    previous = key;
    seen |= 1 << key;
    if (key === DROPPED_KEY.seq) d.seq = uint(r, `${path}.seq`);
    else if (key === DROPPED_KEY.hash) d.hash = bytes(r, `${path}.hash`, 32);
    else if (key === DROPPED_KEY.samples) d.samples = uint(r, `${path}.samples`);
    else if (key === DROPPED_KEY.start) d.start = uint(r, `${path}.start`);
    else d.end = uint(r, `${path}.end`);
  }
  checkRequired(DROPPED_TABLE, seen, path);
  if (d.end < d.start) fail(`${path}.end`, 'before start');
  return d;
}
