import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../cbor/encode.js';
import type { CborValue } from '../cbor/types.js';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { COLUMN_KEY, EVENT_KEY, PAYLOAD_KEY, payloadToCbor } from './payload-codec.js';
import { readBatchPayload, readPayloadColumns } from './payload-reader.js';
import type { BatchPayload } from './types.js';

const T0 = 1_700_000_000_000;
const DEVICE = '00112233445566778899aabbccddeeff';

/** A payload with one column of every type, an event with data and a trace, and a drop. */
const PAYLOAD: BatchPayload = {
  version: 1,
  kind: 'event',
  deviceId: DEVICE,
  vin: '1M8GDM9AXKP042788',
  seq: 3,
  prev: new Uint8Array(32).fill(9),
  start: T0,
  clock: { source: 'ntp', jumps: [{ at: T0 + 5, deltaMs: -40, from: 'system', to: 'ntp' }] },
  signals: [
    {
      name: 'Vehicle.Speed',
      unit: 'km/h',
      timeDeltas: [0, 100, 100],
      values: { type: 'scaled', exponent: -1, integers: [7777, -3, 0] },
    },
    {
      name: 'Vehicle.Acceleration.Longitudinal',
      unit: 'm/s^2',
      timeDeltas: [50],
      values: { type: 'float', numbers: [0.1] },
    },
    {
      name: 'Vehicle.Powertrain.Transmission.SelectedGear',
      unit: '',
      timeDeltas: [0, 7],
      values: { type: 'string', strings: ['D', 'Ä'] },
    },
    {
      name: 'Vehicle.Body.Lights.Brake.IsActive',
      unit: '',
      timeDeltas: [3],
      values: { type: 'boolean', booleans: [true] },
    },
  ],
  events: [
    {
      type: 'harsh-braking',
      priority: 'high',
      start: T0 + 10,
      end: T0 + 90,
      data: { a: 1, bb: 'x', peak: -3.5 },
      trace: { id: 'crash-1', hash: new Uint8Array(32).fill(1) },
    },
  ],
  dropped: [{ seq: 1, hash: new Uint8Array(32).fill(2), samples: 40, start: T0 - 9, end: T0 - 1 }],
};

const bytesOf = (value: CborValue) => encodeCbor(value);

/** The payload's CBOR map with `change` applied to a copy. */
function edited(change: (m: Map<number, CborValue>) => void): Uint8Array {
  const m = new Map(payloadToCbor(PAYLOAD) as Map<number, CborValue>);
  change(m);
  return bytesOf(m);
}

/** The payload's CBOR map with column `i` edited. */
function editedColumn(i: number, change: (c: Map<number, CborValue>) => void): Uint8Array {
  return edited((m) => {
    const columns = [...(m.get(PAYLOAD_KEY.signals) as Map<number, CborValue>[])];
    const c = new Map(columns[i]);
    change(c);
    columns[i] = c;
    m.set(PAYLOAD_KEY.signals, columns);
  });
}

/** `bytes` with the first occurrence of `from` replaced by `to` (the CBOR stays self-delimiting). */
function spliced(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const hex = Buffer.from(bytes).toString('hex');
  const at = hex.indexOf(Buffer.from(from).toString('hex'));
  if (at < 0 || at % 2 !== 0) throw new Error('pattern not found');
  return new Uint8Array(
    Buffer.from(
      hex.slice(0, at) + Buffer.from(to).toString('hex') + hex.slice(at + from.length * 2),
      'hex',
    ),
  );
}

function refusal(bytes: Uint8Array): WireFormatError {
  try {
    readBatchPayload(bytes);
  } catch (err) {
    if (err instanceof WireFormatError) return err;
    throw err;
  }
  throw new Error('the payload was accepted');
}

describe('readBatchPayload', () => {
  it('reads back every field the encoder wrote', () => {
    expect(readBatchPayload(bytesOf(payloadToCbor(PAYLOAD)))).toEqual(PAYLOAD);
  });

  it('reads a payload with no VIN, no columns, events or drops', () => {
    const empty = { ...PAYLOAD, vin: null, signals: [], events: [], dropped: [] };
    expect(readBatchPayload(bytesOf(payloadToCbor(empty)))).toEqual(empty);
  });

  it('returns byte fields that do not share the input buffer', () => {
    const bytes = bytesOf(payloadToCbor(PAYLOAD));
    const read = readBatchPayload(bytes);
    bytes.fill(0);
    expect(read.prev).toEqual(PAYLOAD.prev);
    expect(read.dropped[0]?.hash).toEqual(PAYLOAD.dropped[0]?.hash);
  });

  // Deterministic encoding is checked inside the payload's every part, not only its header.
  it.each([
    [
      'an integer not in its shortest form inside a values array',
      () => spliced(bytesOf(payloadToCbor(PAYLOAD)), [0x19, 0x1e, 0x61], [0x1a, 0, 0, 0x1e, 0x61]),
    ],
    [
      'a float64 that fits a float32 in a float column',
      () =>
        spliced(
          editedColumn(1, (c) => c.set(COLUMN_KEY.values, [0.5])),
          [0xf9, 0x38, 0x00],
          [0xfb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
        ),
    ],
    [
      'column keys out of order',
      () => {
        const ordered = editedColumn(3, () => undefined);
        // name (0) then unit (1) → unit then name: swap the two entries' bytes.
        const name = [0x00, 0x78, 0x22, ...Buffer.from('Vehicle.Body.Lights.Brake.IsActive')];
        const unit = [0x01, 0x60];
        return spliced(ordered, [...name, ...unit], [...unit, ...name]);
      },
    ],
    [
      'event data keys out of order',
      () =>
        spliced(
          edited(() => undefined),
          // 'a': 1, 'bb': 'x' → 'bb': 'x', 'a': 1
          [0x61, 0x61, 0x01, 0x62, 0x62, 0x62, 0x61, 0x78],
          [0x62, 0x62, 0x62, 0x61, 0x78, 0x61, 0x61, 0x01],
        ),
    ],
  ])('refuses %s (not-deterministic)', (_what, make) => {
    const err = refusal(make());
    expect(err.code).toBe('not-deterministic');
    expect(err.message).toMatch(/^payload: /);
  });

  it.each([
    [
      'a repeated column key',
      () =>
        spliced(
          editedColumn(3, () => undefined),
          [0x01, 0x60, 0x02],
          [0x01, 0x60, 0x01],
        ),
    ],
    [
      'a repeated event data key',
      () =>
        spliced(
          edited(() => undefined),
          [0x62, 0x62, 0x62],
          [0x61, 0x61],
        ),
    ],
    ['a truncated payload', () => bytesOf(payloadToCbor(PAYLOAD)).subarray(0, 200)],
    ['a byte after the payload', () => new Uint8Array([...bytesOf(payloadToCbor(PAYLOAD)), 0])],
    ['a break where the payload map should be', () => new Uint8Array([0xff])],
    [
      'a reserved head where a column should be',
      () =>
        spliced(
          edited((m) => m.set(PAYLOAD_KEY.signals, [])),
          [0x08, 0x80],
          [0x08, 0x81, 0x1c],
        ),
    ],
    [
      'invalid UTF-8 in a string value',
      () => spliced(bytesOf(payloadToCbor(PAYLOAD)), [0x62, 0xc3, 0x84], [0x62, 0xc3, 0x28]),
    ],
  ])('refuses %s (bad-cbor)', (_what, make) => {
    expect(refusal(make()).code).toBe('bad-cbor');
  });

  it.each([
    [
      'payload version 2',
      () => edited((m) => m.set(PAYLOAD_KEY.version, 2)),
      'bad-version',
      /version 2 is not 1/,
    ],
    [
      'no version',
      () => edited((m) => m.delete(PAYLOAD_KEY.version)),
      'bad-version',
      /version null/,
    ],
    [
      'an unknown column key',
      () => editedColumn(0, (c) => c.set(9, 1)),
      'bad-field',
      /^signals\[0\]: unknown key 9/,
    ],
    [
      'a column without unit',
      () => editedColumn(2, (c) => c.delete(COLUMN_KEY.unit)),
      'bad-field',
      /^signals\[2\]\.unit: missing/,
    ],
    [
      'a float in a scaled column',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.values, [1, 1.5, 2])),
      'bad-field',
      /^signals\[0\]\.values\[1\]: expected an integer/,
    ],
    [
      'an exponent on a float column',
      () => editedColumn(1, (c) => c.set(COLUMN_KEY.exponent, -1)),
      'bad-field',
      /^signals\[1\]\.exponent: only scaled/,
    ],
    [
      'a scaled column without exponent',
      () => editedColumn(0, (c) => c.delete(COLUMN_KEY.exponent)),
      'bad-field',
      /^signals\[0\]\.exponent/,
    ],
    [
      'an exponent of -13',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.exponent, -13)),
      'bad-field',
      /expected -12\.\.0/,
    ],
    [
      'more values than times',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.values, [1, 2, 3, 4])),
      'bad-field',
      /has 4 values for 3 times/,
    ],
    [
      'an empty column',
      () => editedColumn(3, (c) => c.set(COLUMN_KEY.timeDeltas, []).set(COLUMN_KEY.values, [])),
      'bad-field',
      /at least one sample/,
    ],
    [
      'a negative time delta',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.timeDeltas, [0, -1, 5])),
      'bad-field',
      /timeDeltas\[1\]: expected an unsigned/,
    ],
    [
      'times beyond 2^53 ms',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.timeDeltas, [0, 2 ** 52, 2 ** 52])),
      'bad-field',
      /timeDeltas\[2\]: time beyond/,
    ],
    [
      'a seq of 2^64 − 1',
      () => edited((m) => m.set(PAYLOAD_KEY.seq, 2n ** 64n - 1n)),
      'bad-field',
      /^seq: expected an unsigned/,
    ],
    ['a number for the VIN', () => edited((m) => m.set(PAYLOAD_KEY.vin, 5)), 'bad-field', /^vin: /],
    [
      'a column name with a newline',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.name, 'Vehicle.\nSpeed')),
      'bad-field',
      /^signals\[0\]\.name: expected non-empty/,
    ],
    [
      'a unit of 33 bytes',
      () => editedColumn(0, (c) => c.set(COLUMN_KEY.unit, 'u'.repeat(33))),
      'bad-field',
      /^signals\[0\]\.unit: longer than 32/,
    ],
    [
      'two columns of one name',
      () => editedColumn(1, (c) => c.set(COLUMN_KEY.name, 'Vehicle.Speed')),
      'bad-field',
      /Vehicle\.Speed appears twice/,
    ],
    [
      'an event ending before it starts',
      () =>
        edited((m) => {
          const e = new Map((m.get(PAYLOAD_KEY.events) as Map<number, CborValue>[])[0]);
          e.set(EVENT_KEY.end, T0);
          m.set(PAYLOAD_KEY.events, [e]);
        }),
      'bad-field',
      /^events\[0\]\.end: before start/,
    ],
    [
      'event data holding a map',
      () =>
        edited((m) => {
          const e = new Map((m.get(PAYLOAD_KEY.events) as Map<number, CborValue>[])[0]);
          e.set(EVENT_KEY.data, new Map([['a', new Map()]]));
          m.set(PAYLOAD_KEY.events, [e]);
        }),
      'bad-field',
      /^events\[0\]\.data\.a: expected a number or text/,
    ],
    [
      'event data key __proto__',
      () =>
        edited((m) => {
          const e = new Map((m.get(PAYLOAD_KEY.events) as Map<number, CborValue>[])[0]);
          e.set(EVENT_KEY.data, new Map([['__proto__', 1]]));
          m.set(PAYLOAD_KEY.events, [e]);
        }),
      'bad-field',
      /__proto__ is not allowed/,
    ],
    [
      'a text key in the payload map',
      () => edited((m) => (m as Map<CborValue, CborValue>).set('seq', 1)),
      'bad-field',
      /^payload: unknown key "seq"/,
    ],
    [
      'a non-zero prev at seq 0',
      () => edited((m) => m.set(PAYLOAD_KEY.seq, 0)),
      'bad-field',
      /^prev: must be 32 zero bytes/,
    ],
  ])('refuses %s', (_what, make, code, message) => {
    const err = refusal(make());
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });
});

describe('readPayloadColumns (stored payloads, a few signals of many)', () => {
  const bytes = bytesOf(payloadToCbor(PAYLOAD));
  const firstSamples = [0, 3, 4, 6];

  it('reads every column, each with the samples before it, when none is named', () => {
    const read = readPayloadColumns(bytes);
    expect(read.start).toBe(T0);
    expect(read.columns.map((c) => c.column)).toEqual(PAYLOAD.signals);
    expect(read.columns.map((c) => c.firstSample)).toEqual(firstSamples);
  });

  it.each([
    [['Vehicle.Speed']],
    [['Vehicle.Body.Lights.Brake.IsActive']],
    [['Vehicle.Powertrain.Transmission.SelectedGear', 'Vehicle.Acceleration.Longitudinal']],
    [['Vehicle.NotInTheBatch']],
  ])('reads only %j, counting the samples of the columns it skips', (names) => {
    const read = readPayloadColumns(bytes, new Set(names));
    const expected = PAYLOAD.signals
      .map((column, i) => ({ column, firstSample: firstSamples[i] }))
      .filter(({ column }) => names.includes(column.name));
    expect(read.columns).toEqual(expected);
  });

  it('skips columns without reading what is in them, and still refuses malformed heads', () => {
    // A wanted column is checked as readBatchPayload checks it; a skipped one only structurally.
    const badUtf8 = spliced(bytes, [0x62, 0xc3, 0x84], [0x62, 0xc3, 0x28]);
    expect(readPayloadColumns(badUtf8, new Set(['Vehicle.Speed'])).columns).toHaveLength(1);
    expect(() =>
      readPayloadColumns(badUtf8, new Set(['Vehicle.Powertrain.Transmission.SelectedGear'])),
    ).toThrow(expect.objectContaining({ code: 'bad-cbor' }));
    expect(() => readPayloadColumns(bytes.subarray(0, 300), new Set(['Vehicle.Speed']))).toThrow(
      expect.objectContaining({ code: 'bad-cbor', message: expect.stringMatching(/^payload: /) }),
    );
    expect(() => readPayloadColumns(new Uint8Array([...bytes, 0]))).toThrow(
      expect.objectContaining({ code: 'bad-cbor' }),
    );
  });
});
