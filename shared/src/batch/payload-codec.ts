/**
 * Batch payload <-> CBOR. Small integer keys keep the bytes compact; the key tables below are
 * the format (docs/wire-format.md repeats them). Parsing is strict: every key known, every
 * field typed and in range, so a verified batch is also a well-formed one.
 */
import type { CborKey, CborValue } from '../cbor/types.js';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { isValidVin } from '../vin/vin.js';
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
  TraceReference,
} from './types.js';

export const BATCH_FORMAT_VERSION = 1;

export const PAYLOAD_KEY = {
  version: 0,
  kind: 1,
  deviceId: 2,
  vin: 3,
  seq: 4,
  prev: 5,
  start: 6,
  clock: 7,
  signals: 8,
  events: 9,
  dropped: 10,
} as const;
export const CLOCK_KEY = { source: 0, jumps: 1 } as const;
export const JUMP_KEY = { at: 0, deltaMs: 1, from: 2, to: 3 } as const;
export const COLUMN_KEY = {
  name: 0,
  unit: 1,
  timeDeltas: 2,
  type: 3,
  values: 4,
  exponent: 5,
} as const;
export const COLUMN_TYPE = { scaled: 0, float: 1, string: 2, boolean: 3 } as const;
export const EVENT_KEY = { type: 0, priority: 1, start: 2, end: 3, data: 4, trace: 5 } as const;
export const TRACE_KEY = { id: 0, hash: 1 } as const;
export const DROPPED_KEY = { seq: 0, hash: 1, samples: 2, start: 3, end: 4 } as const;

const BATCH_KINDS: readonly BatchKind[] = ['routine', 'event', 'trace'];
const CLOCK_SOURCES: readonly ClockSource[] = ['gnss', 'ntp', 'system', 'rtc', 'unsynced'];
const PRIORITIES: readonly EventPriority[] = ['critical', 'high', 'normal'];
/** Scaled columns store integer × 10^exponent with exponent in this range. */
export const MIN_EXPONENT = -12;
export const MAX_EXPONENT = 0;
const MAX_NAME_BYTES = 256;
const MAX_UNIT_BYTES = 32;
const MAX_TEXT_BYTES = 4096;

// ---------------------------------------------------------------- encode

function encodeColumn(c: SignalColumn): Map<number, CborValue> {
  const m = new Map<number, CborValue>([
    [COLUMN_KEY.name, c.name],
    [COLUMN_KEY.unit, c.unit],
    [COLUMN_KEY.timeDeltas, c.timeDeltas],
  ]);
  const v = c.values;
  switch (v.type) {
    case 'scaled':
      m.set(COLUMN_KEY.type, COLUMN_TYPE.scaled)
        .set(COLUMN_KEY.values, v.integers)
        .set(COLUMN_KEY.exponent, v.exponent);
      break;
    case 'float':
      m.set(COLUMN_KEY.type, COLUMN_TYPE.float).set(COLUMN_KEY.values, v.numbers);
      break;
    case 'string':
      m.set(COLUMN_KEY.type, COLUMN_TYPE.string).set(COLUMN_KEY.values, v.strings);
      break;
    case 'boolean':
      m.set(COLUMN_KEY.type, COLUMN_TYPE.boolean).set(COLUMN_KEY.values, v.booleans);
      break;
    default:
      throw new WireFormatError('bad-input', `signals: column ${c.name} has an unknown value type`);
  }
  return m;
}

function encodeEvent(e: BatchEvent): Map<number, CborValue> {
  const m = new Map<number, CborValue>([
    [EVENT_KEY.type, e.type],
    [EVENT_KEY.priority, e.priority],
    [EVENT_KEY.start, e.start],
    [EVENT_KEY.end, e.end],
    [EVENT_KEY.data, new Map(Object.entries(e.data ?? {}))],
  ]);
  if (e.trace !== undefined) {
    const t = new Map<number, CborValue>([[TRACE_KEY.id, e.trace.id]]);
    if (e.trace.hash !== undefined) t.set(TRACE_KEY.hash, e.trace.hash);
    m.set(EVENT_KEY.trace, t);
  }
  return m;
}

/** The CBOR value of a payload (not yet checked: `signBatch` parses its own output back). */
export function payloadToCbor(p: BatchPayload): CborValue {
  if (typeof p !== 'object' || p === null)
    throw new WireFormatError('bad-input', 'payload: expected an object');
  const deviceId =
    typeof p.deviceId === 'string' && /^[0-9a-f]{32}$/.test(p.deviceId) ? p.deviceId : undefined;
  if (deviceId === undefined)
    throw new WireFormatError('bad-input', 'payload.deviceId: expected 32 lower-case hex digits');
  return new Map<number, CborValue>([
    [PAYLOAD_KEY.version, p.version],
    [PAYLOAD_KEY.kind, p.kind],
    [PAYLOAD_KEY.deviceId, new Uint8Array(Buffer.from(deviceId, 'hex'))],
    [PAYLOAD_KEY.vin, p.vin],
    [PAYLOAD_KEY.seq, p.seq],
    [PAYLOAD_KEY.prev, p.prev],
    [PAYLOAD_KEY.start, p.start],
    [
      PAYLOAD_KEY.clock,
      new Map<number, CborValue>([
        [CLOCK_KEY.source, p.clock?.source],
        [
          CLOCK_KEY.jumps,
          (p.clock?.jumps ?? []).map(
            (j) =>
              new Map<number, CborValue>([
                [JUMP_KEY.at, j.at],
                [JUMP_KEY.deltaMs, j.deltaMs],
                [JUMP_KEY.from, j.from],
                [JUMP_KEY.to, j.to],
              ]),
          ),
        ],
      ] as [number, CborValue][]),
    ],
    [PAYLOAD_KEY.signals, (p.signals ?? []).map(encodeColumn)],
    [PAYLOAD_KEY.events, (p.events ?? []).map(encodeEvent)],
    [
      PAYLOAD_KEY.dropped,
      (p.dropped ?? []).map(
        (d) =>
          new Map<number, CborValue>([
            [DROPPED_KEY.seq, d.seq],
            [DROPPED_KEY.hash, d.hash],
            [DROPPED_KEY.samples, d.samples],
            [DROPPED_KEY.start, d.start],
            [DROPPED_KEY.end, d.end],
          ]),
      ),
    ],
  ] as [number, CborValue][]);
}

// ---------------------------------------------------------------- parse

function fail(path: string, what: string): never {
  throw new WireFormatError('bad-field', `${path}: ${what}`);
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

interface KeyTable {
  readonly allowed: ReadonlySet<number>;
  readonly required: readonly (readonly [string, number])[];
}
// Derived once per key table: record() runs for every column and event of every batch.
const NONE: readonly number[] = [];
const COLUMN_OPTIONAL: readonly number[] = [COLUMN_KEY.exponent];
const keyTables = new Map<Readonly<Record<string, number>>, KeyTable>();

function keyTableOf(keys: Readonly<Record<string, number>>, optional: readonly number[]): KeyTable {
  let t = keyTables.get(keys);
  if (t === undefined) {
    t = {
      allowed: new Set(Object.values(keys)),
      required: Object.entries(keys).filter(([, k]) => !optional.includes(k)),
    };
    keyTables.set(keys, t);
  }
  return t;
}

const indexed = (path: string, index: number | undefined) =>
  index === undefined ? path : `${path}[${index}]`;

/**
 * Reads an integer-keyed map whose keys must all be in `keys`; `optional` keys may be absent.
 * `path` is the field's path, `[index]` appended when given (built only on failure).
 */
function record(
  v: CborValue | undefined,
  path: string,
  keys: Readonly<Record<string, number>>,
  optional: readonly number[] = NONE,
  index?: number,
): ReadonlyMap<CborKey, CborValue> {
  if (!(v instanceof Map)) fail(indexed(path, index), 'expected a map');
  const m = v as ReadonlyMap<CborKey, CborValue>;
  const table = keyTableOf(keys, optional);
  for (const k of m.keys()) {
    if (typeof k !== 'number' || !table.allowed.has(k))
      fail(
        indexed(path, index),
        `unknown key ${JSON.stringify(typeof k === 'bigint' ? String(k) : k)}`,
      );
  }
  for (const [name, k] of table.required)
    if (!m.has(k)) fail(`${indexed(path, index)}.${name}`, 'missing');
  return m;
}

function uint(v: CborValue | undefined, path: string): number {
  // -0 passes isSafeInteger but is a float on the wire.
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || Object.is(v, -0)) {
    fail(path, 'expected an unsigned integer below 2^53');
  }
  return v;
}

function int(v: CborValue | undefined, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || Object.is(v, -0))
    fail(path, 'expected an integer within ±2^53');
  return v;
}

/**
 * Whether `v` is text of at most `maxBytes` UTF-8 bytes, without allocating: a string has at
 * most 3 UTF-8 bytes per UTF-16 unit, so only long ones are measured.
 */
function isText(v: CborValue | undefined, maxBytes: number): v is string {
  return typeof v === 'string' && (v.length * 3 <= maxBytes || utf8Length(v) <= maxBytes);
}

function text(v: CborValue | undefined, path: string, maxBytes = MAX_TEXT_BYTES): string {
  if (typeof v !== 'string') fail(path, 'expected a text string');
  if (utf8Length(v) > maxBytes) fail(path, `longer than ${maxBytes} bytes`);
  return v;
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function nonEmptyText(v: CborValue | undefined, path: string, maxBytes: number): string {
  const s = text(v, path, maxBytes);
  if (s.length === 0 || hasControlCharacter(s))
    fail(path, 'expected non-empty text without control characters');
  return s;
}

function oneOf<T extends string>(v: CborValue | undefined, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    fail(path, `expected one of ${allowed.join(', ')}`);
  return v as T;
}

function bytes(v: CborValue | undefined, path: string, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) fail(path, `expected ${length} bytes`);
  return v;
}

function list(v: CborValue | undefined, path: string): readonly CborValue[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v as readonly CborValue[];
}

function parseClock(v: CborValue | undefined): BatchClock {
  const m = record(v, 'clock', CLOCK_KEY);
  return {
    source: oneOf(m.get(CLOCK_KEY.source), 'clock.source', CLOCK_SOURCES),
    jumps: list(m.get(CLOCK_KEY.jumps), 'clock.jumps').map((j, i): ClockJumpRecord => {
      const path = `clock.jumps[${i}]`;
      const jm = record(j, path, JUMP_KEY);
      return {
        at: uint(jm.get(JUMP_KEY.at), `${path}.at`),
        deltaMs: int(jm.get(JUMP_KEY.deltaMs), `${path}.deltaMs`),
        from: oneOf(jm.get(JUMP_KEY.from), `${path}.from`, CLOCK_SOURCES),
        to: oneOf(jm.get(JUMP_KEY.to), `${path}.to`, CLOCK_SOURCES),
      };
    }),
  };
}

/** The path of column `i`'s field, built only on failure: columns are parsed for every batch. */
const at = (i: number, field: string) => `signals[${i}].${field}`;

function parseColumn(v: CborValue, i: number, start: number): SignalColumn {
  const m = record(v, 'signals', COLUMN_KEY, COLUMN_OPTIONAL, i);
  const nameValue = m.get(COLUMN_KEY.name);
  if (
    !isText(nameValue, MAX_NAME_BYTES) ||
    nameValue.length === 0 ||
    hasControlCharacter(nameValue)
  )
    nonEmptyText(nameValue, at(i, 'name'), MAX_NAME_BYTES);
  const name = nameValue as string;
  // VSS enumerations and strings (a gear, a fix quality, a DTC list) have no unit: '' is valid.
  const unitValue = m.get(COLUMN_KEY.unit);
  if (!isText(unitValue, MAX_UNIT_BYTES)) text(unitValue, at(i, 'unit'), MAX_UNIT_BYTES);
  const unit = unitValue as string;
  if (hasControlCharacter(unit)) fail(at(i, 'unit'), 'expected text without control characters');
  const deltasValue = m.get(COLUMN_KEY.timeDeltas);
  if (!Array.isArray(deltasValue)) fail(at(i, 'timeDeltas'), 'expected an array');
  const rawDeltas = deltasValue as readonly CborValue[];
  let span = 0;
  for (let j = 0; j < rawDeltas.length; j++) {
    const d = rawDeltas[j];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0 || Object.is(d, -0))
      uint(d, at(i, `timeDeltas[${j}]`));
    span += d as number;
  }
  // Deltas are unsigned, so times only grow: when the last is safe, all are.
  if (!Number.isSafeInteger(start + span)) {
    let time = start;
    for (let j = 0; j < rawDeltas.length; j++) {
      time += rawDeltas[j] as number;
      if (!Number.isSafeInteger(time)) fail(at(i, `timeDeltas[${j}]`), 'time beyond 2^53 ms');
    }
  }
  const timeDeltas = rawDeltas as readonly number[];
  if (timeDeltas.length === 0) fail(at(i, 'timeDeltas'), 'a column holds at least one sample');
  const valuesValue = m.get(COLUMN_KEY.values);
  if (!Array.isArray(valuesValue)) fail(at(i, 'values'), 'expected an array');
  const raw = valuesValue as readonly CborValue[];
  if (raw.length !== timeDeltas.length)
    fail(at(i, 'values'), `has ${raw.length} values for ${timeDeltas.length} times`);
  const type = m.get(COLUMN_KEY.type);
  const exponent = m.get(COLUMN_KEY.exponent);
  if (type !== COLUMN_TYPE.scaled && exponent !== undefined)
    fail(at(i, 'exponent'), 'only scaled columns have one');
  let values: ColumnValues;
  switch (type) {
    case COLUMN_TYPE.scaled: {
      const e = exponent as number;
      if (typeof e !== 'number' || !Number.isSafeInteger(e) || Object.is(e, -0))
        int(exponent, at(i, 'exponent'));
      if (e < MIN_EXPONENT || e > MAX_EXPONENT)
        fail(at(i, 'exponent'), `expected ${MIN_EXPONENT}..${MAX_EXPONENT}`);
      for (let j = 0; j < raw.length; j++) {
        const x = raw[j];
        if (typeof x !== 'number' || !Number.isSafeInteger(x) || Object.is(x, -0))
          fail(at(i, `values[${j}]`), 'expected an integer within ±2^53');
      }
      values = { type: 'scaled', exponent: e, integers: raw as readonly number[] };
      break;
    }
    case COLUMN_TYPE.float:
      for (let j = 0; j < raw.length; j++)
        if (typeof raw[j] !== 'number') fail(at(i, `values[${j}]`), 'expected a number');
      values = { type: 'float', numbers: raw as readonly number[] };
      break;
    case COLUMN_TYPE.string:
      for (let j = 0; j < raw.length; j++) text(raw[j], at(i, `values[${j}]`));
      values = { type: 'string', strings: raw as readonly string[] };
      break;
    case COLUMN_TYPE.boolean:
      for (let j = 0; j < raw.length; j++)
        if (typeof raw[j] !== 'boolean') fail(at(i, `values[${j}]`), 'expected a boolean');
      values = { type: 'boolean', booleans: raw as readonly boolean[] };
      break;
    default:
      fail(at(i, 'type'), 'expected 0 (scaled), 1 (float), 2 (string) or 3 (boolean)');
  }
  return { name, unit, timeDeltas, values };
}

function parseEvent(v: CborValue, i: number): BatchEvent {
  const path = `events[${i}]`;
  const m = record(v, path, EVENT_KEY, [EVENT_KEY.trace]);
  const start = uint(m.get(EVENT_KEY.start), `${path}.start`);
  const end = uint(m.get(EVENT_KEY.end), `${path}.end`);
  if (end < start) fail(`${path}.end`, 'before start');
  const dataValue = m.get(EVENT_KEY.data);
  if (!(dataValue instanceof Map)) fail(`${path}.data`, 'expected a map');
  const data: Record<string, number | string> = {};
  for (const [k, x] of dataValue as ReadonlyMap<CborKey, CborValue>) {
    if (typeof k !== 'string' || k.length === 0 || utf8Length(k) > 64)
      fail(`${path}.data`, 'keys are text of 1..64 bytes');
    if (k === '__proto__') fail(`${path}.data`, 'key __proto__ is not allowed');
    if (typeof x === 'number') data[k] = x;
    else if (typeof x === 'string') data[k] = text(x, `${path}.data.${k}`, 1024);
    else fail(`${path}.data.${k}`, 'expected a number or text');
  }
  const event: BatchEvent = {
    type: nonEmptyText(m.get(EVENT_KEY.type), `${path}.type`, 64),
    priority: oneOf(m.get(EVENT_KEY.priority), `${path}.priority`, PRIORITIES),
    start,
    end,
    data,
  };
  const traceValue = m.get(EVENT_KEY.trace);
  if (traceValue === undefined) return event;
  const t = record(traceValue, `${path}.trace`, TRACE_KEY, [TRACE_KEY.hash]);
  const trace: TraceReference = { id: nonEmptyText(t.get(TRACE_KEY.id), `${path}.trace.id`, 64) };
  const hash = t.get(TRACE_KEY.hash);
  return {
    ...event,
    trace: hash === undefined ? trace : { ...trace, hash: bytes(hash, `${path}.trace.hash`, 32) },
  };
}

function parseDropped(v: CborValue, i: number): DroppedBatch {
  const path = `dropped[${i}]`;
  const m = record(v, path, DROPPED_KEY);
  const d: DroppedBatch = {
    seq: uint(m.get(DROPPED_KEY.seq), `${path}.seq`),
    hash: bytes(m.get(DROPPED_KEY.hash), `${path}.hash`, 32),
    samples: uint(m.get(DROPPED_KEY.samples), `${path}.samples`),
    start: uint(m.get(DROPPED_KEY.start), `${path}.start`),
    end: uint(m.get(DROPPED_KEY.end), `${path}.end`),
  };
  if (d.end < d.start) fail(`${path}.end`, 'before start');
  return d;
}

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

/** Parses a decoded payload; throws WireFormatError `bad-version` or `bad-field` naming the field. */
export function payloadFromCbor(value: CborValue): BatchPayload {
  if (!(value instanceof Map)) fail('payload', 'expected a map');
  const version = (value as ReadonlyMap<CborKey, CborValue>).get(PAYLOAD_KEY.version);
  if (version !== BATCH_FORMAT_VERSION) {
    throw new WireFormatError(
      'bad-version',
      `payload version ${JSON.stringify(typeof version === 'bigint' ? String(version) : (version ?? null))} is not ${BATCH_FORMAT_VERSION}`,
    );
  }
  const m = record(value, 'payload', PAYLOAD_KEY);
  const seq = uint(m.get(PAYLOAD_KEY.seq), 'seq');
  const prev = bytes(m.get(PAYLOAD_KEY.prev), 'prev', 32);
  if (seq === 0 && prev.some((b) => b !== 0)) fail('prev', 'must be 32 zero bytes at seq 0');
  const vinValue = m.get(PAYLOAD_KEY.vin);
  if (vinValue !== null && !(typeof vinValue === 'string' && isBatchVin(vinValue))) {
    fail('vin', 'expected null or a valid upper-case 17-character VIN');
  }
  const start = uint(m.get(PAYLOAD_KEY.start), 'start');
  const signals = list(m.get(PAYLOAD_KEY.signals), 'signals').map((c, i) =>
    parseColumn(c, i, start),
  );
  if (signals.length > 1) {
    const names = new Set<string>();
    for (const c of signals) {
      if (names.has(c.name)) fail('signals', `column ${c.name} appears twice`);
      names.add(c.name);
    }
  }
  return {
    version: BATCH_FORMAT_VERSION,
    kind: oneOf(m.get(PAYLOAD_KEY.kind), 'kind', BATCH_KINDS),
    deviceId: Buffer.from(bytes(m.get(PAYLOAD_KEY.deviceId), 'deviceId', 16)).toString('hex'),
    vin: vinValue as string | null,
    seq,
    prev,
    start,
    clock: parseClock(m.get(PAYLOAD_KEY.clock)),
    signals,
    events: list(m.get(PAYLOAD_KEY.events), 'events').map(parseEvent),
    dropped: list(m.get(PAYLOAD_KEY.dropped), 'dropped').map(parseDropped),
  };
}
