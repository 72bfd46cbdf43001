/**
 * Batch payload → CBOR, and the key tables that are the format (docs/wire-format.md repeats
 * them). Small integer keys keep the bytes compact. Reading is payload-reader.ts.
 */
import type { CborValue } from '../cbor/types.js';
import { WireFormatError } from '../cbor/wire-format-error.js';
import type { BatchEvent, BatchPayload, SignalColumn } from './types.js';

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

/** Scaled columns store integer × 10^exponent with exponent in this range. */
export const MIN_EXPONENT = -12;
export const MAX_EXPONENT = 0;

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
