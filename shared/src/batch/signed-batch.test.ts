import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../cbor/encode.js';
import type { CborValue } from '../cbor/types.js';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { COSE_HEADER, ES256, signCoseSign1 } from '../cose/cose-sign1.js';
import { generateDeviceKey, type DeviceKey } from '../crypto/device-key.js';
import { KeyFileError } from '../crypto/key-error.js';
import { SECP256K1_N, secp256k1PublicKeyObject, signEs256k } from '../crypto/secp256k1.js';
import { samplesFromColumns } from './columns.js';
import { payloadToCbor } from './payload-codec.js';
import {
  BATCH_CONTENT_TYPE,
  MAX_BATCH_BYTES,
  ZERO_HASH,
  batchHash,
  buildBatchPayload,
  decodeBatch,
  signBatch,
  verifyBatch,
} from './signed-batch.js';
import type {
  BatchEvent,
  BatchPayload,
  ColumnValues,
  DroppedBatch,
  SignalColumn,
} from './types.js';

const T0 = 1_700_000_000_000;
const key = generateDeviceKey();
const keyObject = secp256k1PublicKeyObject(key.publicKey);

function samplePayload(
  device: DeviceKey = key,
  overrides: Partial<BatchPayload> = {},
): BatchPayload {
  const samples = [];
  for (let i = 0; i < 50; i++) {
    const t = T0 + i * 100;
    samples.push({ name: 'Vehicle.Speed', unit: 'km/h', time: t, value: Math.round(i * 7.3) / 10 });
    samples.push({
      name: 'Vehicle.Powertrain.CombustionEngine.Speed',
      unit: 'rpm',
      time: t,
      value: 800 + i * 25,
    });
  }
  return {
    ...buildBatchPayload({
      kind: 'event',
      deviceId: device.deviceId,
      vin: '1M8GDM9AXKP042788',
      seq: 7,
      prev: new Uint8Array(32).fill(0xab),
      clock: {
        source: 'gnss',
        jumps: [{ at: T0 + 1000, deltaMs: -250, from: 'system', to: 'gnss' }],
      },
      samples,
      events: [
        {
          type: 'harsh-braking',
          priority: 'high',
          start: T0 + 1200,
          end: T0 + 2100,
          data: { peakMs2: -3.4, note: 'x' },
          trace: { id: 'crash-1', hash: new Uint8Array(32).fill(1) },
        },
      ],
      dropped: [
        {
          seq: 5,
          hash: new Uint8Array(32).fill(5),
          samples: 800,
          start: T0 - 20_000,
          end: T0 - 10_000,
        },
      ],
    }),
    ...overrides,
  };
}

function codeOf(v: { ok: boolean; error?: WireFormatError }): string {
  return v.ok ? 'ok' : (v.error?.code ?? 'no code');
}

describe('signed batch: round trip', () => {
  it('sign -> decode -> verify gives the same payload, keeps the bytes as received', () => {
    const payload = samplePayload();
    const bytes = signBatch(payload, key);
    expect(bytes[0]).toBe(0xd2); // tag 18
    const decoded = decodeBatch(bytes);
    if (!decoded.ok) throw decoded.error;
    expect(decoded.value.payload).toEqual(payload);
    expect(decoded.value.bytes).toBe(bytes);
    expect(decoded.value.deviceId).toBe(key.deviceId);
    expect(decoded.value.header).toEqual({
      alg: -47,
      contentType: BATCH_CONTENT_TYPE,
      kid: new Uint8Array(Buffer.from(key.deviceId, 'hex')),
    });
    const verified = verifyBatch(bytes, keyObject);
    if (!verified.ok) throw verified.error;
    expect(verified.value.payload).toEqual(payload);
    expect(verifyBatch(bytes, key.publicKey).ok).toBe(true);
    // Deterministic: same payload, same key -> same bytes (RFC 6979), so the same hash.
    expect(Buffer.from(signBatch(payload, key.privateKey))).toEqual(Buffer.from(bytes));
    expect(Buffer.from(batchHash(bytes)).toString('hex')).toMatch(/^[0-9a-f]{64}$/);
    expect(samplesFromColumns(payload.signals, payload.start)).toHaveLength(100);
  });

  it('random payloads survive sign -> verify unchanged', () => {
    fc.assert(
      fc.property(payloadArbitrary(key), (payload) => {
        const bytes = signBatch(payload, key);
        const verdict = verifyBatch(bytes, keyObject);
        if (!verdict.ok) throw verdict.error;
        expect(verdict.value.payload).toEqual(payload);
      }),
      { numRuns: 150 },
    );
  });
});

describe('signed batch: mutations are refused', () => {
  it('ANY single flipped byte of a signed batch is refused', () => {
    const bytes = signBatch(samplePayload(), key);
    const codes = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const mutated = bytes.slice();
        mutated[i] = (mutated[i] as number) ^ mask;
        const verdict = verifyBatch(mutated, keyObject);
        expect(verdict.ok, `byte ${i} ^ ${mask}`).toBe(false);
        codes.add(codeOf(verdict));
      }
    }
    expect(codes.has('bad-signature')).toBe(true);
  });

  it('random bytes and truncations give verdicts, never exceptions', () => {
    const bytes = signBatch(samplePayload(), key);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
        expect(decodeBatch(random).ok).toBe(false);
        expect(verifyBatch(random, keyObject).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
    for (let n = 0; n < bytes.length; n += 7)
      expect(verifyBatch(bytes.subarray(0, n), keyObject).ok).toBe(false);
    // Random splices inside a real batch reach deeper code paths than random bytes do.
    fc.assert(
      fc.property(
        fc.nat(bytes.length - 1),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (at, junk) => {
          const mutated = bytes.slice();
          mutated.set(junk.subarray(0, bytes.length - at), at);
          const v = verifyBatch(mutated, keyObject);
          if (Buffer.compare(mutated, bytes) !== 0) expect(v.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a high-S twin of a valid signature is refused (bad-signature)', () => {
    const bytes = signBatch(samplePayload(), key);
    const s = BigInt('0x' + Buffer.from(bytes.subarray(-32)).toString('hex'));
    const twin = bytes.slice();
    twin.set(
      Buffer.from((SECP256K1_N - s).toString(16).padStart(64, '0'), 'hex'),
      bytes.length - 32,
    );
    expect(codeOf(verifyBatch(twin, keyObject))).toBe('bad-signature');
  });

  it('a batch from another device, or checked with another key, is bad-kid', () => {
    const other = generateDeviceKey();
    const bytes = signBatch(samplePayload(other), other);
    expect(codeOf(verifyBatch(bytes, keyObject))).toBe('bad-kid');
    expect(verifyBatch(bytes, other.publicKey).ok).toBe(true);
  });

  it('checks the size before parsing', () => {
    const big = new Uint8Array(MAX_BATCH_BYTES + 1).fill(0xd2);
    expect(codeOf(decodeBatch(big))).toBe('too-large');
    expect(codeOf(verifyBatch(big, keyObject))).toBe('too-large');
  });
});

/** Hand-made COSE around a hand-made payload: what a broken or hostile sender could send. */
function craft(options: {
  payload?: CborValue;
  payloadBytes?: Uint8Array;
  protectedHeader?: Map<number, CborValue>;
  unprotectedHeader?: Map<number, CborValue>;
}): Uint8Array {
  const payloadBytes =
    options.payloadBytes ?? encodeCbor(options.payload ?? payloadToCbor(samplePayload()));
  return signCoseSign1(
    {
      protectedHeader:
        options.protectedHeader ??
        new Map<number, CborValue>([
          [COSE_HEADER.alg, -47],
          [COSE_HEADER.contentType, BATCH_CONTENT_TYPE],
          [COSE_HEADER.kid, Buffer.from(key.deviceId, 'hex')],
        ]),
      unprotectedHeader: options.unprotectedHeader,
      payload: payloadBytes,
    },
    (tbs) => signEs256k(tbs, key.privateKey),
  );
}

function withPayloadKey(k: number, v: CborValue | undefined): CborValue {
  const m = new Map(payloadToCbor(samplePayload()) as Map<number, CborValue>);
  if (v === undefined) m.delete(k);
  else m.set(k, v);
  return m;
}

describe('signed batch: hostile inputs give the right code', () => {
  const kid = Buffer.from(key.deviceId, 'hex');
  const cases: [string, () => Uint8Array, string][] = [
    ['the crafted baseline verifies', () => craft({}), 'ok'],
    ['payload version 2', () => craft({ payload: withPayloadKey(0, 2) }), 'bad-version'],
    [
      'payload version missing',
      () => craft({ payload: withPayloadKey(0, undefined) }),
      'bad-version',
    ],
    ['unknown payload key 99', () => craft({ payload: withPayloadKey(99, 1) }), 'bad-field'],
    ['seq missing', () => craft({ payload: withPayloadKey(4, undefined) }), 'bad-field'],
    ['seq negative', () => craft({ payload: withPayloadKey(4, -1) }), 'bad-field'],
    ['seq 0 with a non-zero prev', () => craft({ payload: withPayloadKey(4, 0) }), 'bad-field'],
    [
      'prev of 31 bytes',
      () => craft({ payload: withPayloadKey(5, new Uint8Array(31)) }),
      'bad-field',
    ],
    ['kind "urgent"', () => craft({ payload: withPayloadKey(1, 'urgent') }), 'bad-field'],
    [
      'VIN with a bad check digit',
      () => craft({ payload: withPayloadKey(3, '1M8GDM9A1KP042788') }),
      'bad-field',
    ],
    ['signals not an array', () => craft({ payload: withPayloadKey(8, 5) }), 'bad-field'],
    ['payload is an array', () => craft({ payload: [1, 2] }), 'bad-field'],
    [
      'payload not deterministic',
      () => craft({ payloadBytes: new Uint8Array([0xa1, 0x18, 0x00, 0x01]) }),
      'not-deterministic',
    ],
    ['payload is not CBOR', () => craft({ payloadBytes: new Uint8Array([0xff]) }), 'bad-cbor'],
    [
      'payload device id is not the kid',
      () => craft({ payload: withPayloadKey(2, new Uint8Array(16)) }),
      'bad-kid',
    ],
    [
      'alg ES256',
      () =>
        craft({
          protectedHeader: new Map<number, CborValue>([
            [1, ES256.id],
            [3, BATCH_CONTENT_TYPE],
            [4, kid],
          ]),
        }),
      'bad-alg',
    ],
    [
      'alg missing',
      () =>
        craft({
          protectedHeader: new Map<number, CborValue>([
            [3, BATCH_CONTENT_TYPE],
            [4, kid],
          ]),
        }),
      'bad-alg',
    ],
    [
      'other content type',
      () =>
        craft({
          protectedHeader: new Map<number, CborValue>([
            [1, -47],
            [3, 'application/cbor'],
            [4, kid],
          ]),
        }),
      'bad-header',
    ],
    [
      'kid missing',
      () =>
        craft({
          protectedHeader: new Map<number, CborValue>([
            [1, -47],
            [3, BATCH_CONTENT_TYPE],
          ]),
        }),
      'bad-kid',
    ],
    [
      'kid of 8 bytes',
      () =>
        craft({
          protectedHeader: new Map<number, CborValue>([
            [1, -47],
            [3, BATCH_CONTENT_TYPE],
            [4, kid.subarray(0, 8)],
          ]),
        }),
      'bad-kid',
    ],
    [
      'extra protected label',
      () =>
        craft({
          protectedHeader: new Map<number, CborValue>([
            [1, -47],
            [3, BATCH_CONTENT_TYPE],
            [4, kid],
            [7, 1],
          ]),
        }),
      'bad-header',
    ],
    [
      'something in the unprotected header',
      () => craft({ unprotectedHeader: new Map([[5, new Uint8Array(12)]]) }),
      'bad-header',
    ],
    ['untagged', () => craft({}).subarray(1), 'bad-tag'],
  ];
  it.each(cases)('%s', (_what, make, code) => {
    const bytes = make();
    expect(codeOf(verifyBatch(bytes, keyObject))).toBe(code);
    if (code !== 'ok')
      expect(verifyBatch(bytes, keyObject)).toMatchObject({
        ok: false,
        error: expect.any(WireFormatError),
      });
  });
});

describe('signed batch: misuse throws', () => {
  it('signBatch refuses a payload it could not verify itself, naming the field', () => {
    expect(() => signBatch(samplePayload(generateDeviceKey()), key)).toThrow(/deviceId/);
    expect(() => signBatch(samplePayload(key, { seq: 0 }), key)).toThrow(
      /prev: must be 32 zero bytes/,
    );
    expect(() => signBatch(samplePayload(key, { vin: 'nope' }), key)).toThrow(WireFormatError);
    expect(() => signBatch(samplePayload(key, { kind: 'x' as 'routine' }), key)).toThrow(/kind/);
    const bad: SignalColumn = {
      name: 'Vehicle.Speed',
      unit: 'km/h',
      timeDeltas: [0],
      values: { type: 'scaled', exponent: -1, integers: [1.5] },
    };
    expect(() => signBatch(samplePayload(key, { signals: [bad] }), key)).toThrow(
      /signals\[0\]\.values\[0\]/,
    );
    try {
      signBatch(samplePayload(key, { seq: -1 }), key);
    } catch (err) {
      expect(err).toMatchObject({ code: 'bad-input' });
    }
  });

  it('signBatch refuses a batch over 256 KiB with too-large', () => {
    const samples = Array.from({ length: 70_000 }, (_, i) => ({
      name: 'Vehicle.Speed',
      unit: 'km/h',
      time: T0 + i,
      value: i * 1000.5,
    }));
    const payload = buildBatchPayload({
      deviceId: key.deviceId,
      vin: null,
      seq: 0,
      clock: { source: 'ntp', jumps: [] },
      samples,
    });
    expect(() => signBatch(payload, key)).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('verifyBatch throws for a non-byte input or a key that is not secp256k1', () => {
    const bytes = signBatch(samplePayload(), key);
    expect(() => verifyBatch('x' as unknown as Uint8Array, keyObject)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(() => decodeBatch(null as unknown as Uint8Array)).toThrow(WireFormatError);
    expect(() => verifyBatch(bytes, new Uint8Array(33))).toThrow(KeyFileError);
    expect(() => batchHash([] as unknown as Uint8Array)).toThrow(WireFormatError);
  });

  it('buildBatchPayload defaults: routine, ZERO_HASH prev, start at the first sample', () => {
    const p = buildBatchPayload({
      deviceId: key.deviceId,
      vin: null,
      seq: 0,
      clock: { source: 'unsynced', jumps: [] },
      samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 5.4, value: 1 }],
    });
    expect(p).toMatchObject({
      kind: 'routine',
      prev: ZERO_HASH,
      start: T0 + 5,
      events: [],
      dropped: [],
    });
    expect(verifyBatch(signBatch(p, key), keyObject).ok).toBe(true);
  });
});

// ---------------------------------------------------------------- arbitraries

function payloadArbitrary(device: DeviceKey): fc.Arbitrary<BatchPayload> {
  const label = fc.stringMatching(/^[A-Za-z][A-Za-z0-9.\-_ ]{0,20}$/);
  const ms = fc.integer({ min: 0, max: 2 ** 45 });
  const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const columnValues = (n: number): fc.Arbitrary<ColumnValues> =>
    fc.oneof(
      fc.record({
        type: fc.constant('scaled' as const),
        exponent: fc.integer({ min: -12, max: 0 }),
        integers: fc.array(fc.maxSafeInteger(), { minLength: n, maxLength: n }),
      }),
      fc.record({
        type: fc.constant('float' as const),
        numbers: fc.array(fc.double(), { minLength: n, maxLength: n }),
      }),
      fc.record({
        type: fc.constant('string' as const),
        strings: fc.array(fc.string({ maxLength: 8 }), { minLength: n, maxLength: n }),
      }),
      fc.record({
        type: fc.constant('boolean' as const),
        booleans: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      }),
    );
  const column = (name: string): fc.Arbitrary<SignalColumn> =>
    fc.integer({ min: 1, max: 12 }).chain((n) =>
      fc.record({
        name: fc.constant(name),
        unit: fc.constantFrom('km/h', 'rpm', 'celsius', 'percent', 'V', 'm/s^2', 'degrees'),
        timeDeltas: fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: n, maxLength: n }),
        values: columnValues(n),
      }),
    );
  const event: fc.Arbitrary<BatchEvent> = fc
    .record(
      {
        type: label,
        priority: fc.constantFrom('critical' as const, 'high' as const, 'normal' as const),
        start: ms,
        length: fc.nat(100_000),
        data: fc.dictionary(
          label.filter((k) => k !== '__proto__'),
          fc.oneof(fc.double(), fc.string({ maxLength: 10 })),
          { maxKeys: 4 },
        ),
        trace: fc.record({ id: label, hash }, { requiredKeys: ['id'] }),
      },
      { requiredKeys: ['type', 'priority', 'start', 'length', 'data'] },
    )
    .map(({ length, ...e }) => ({ ...e, end: e.start + length }));
  const dropped: fc.Arbitrary<DroppedBatch> = fc
    .record({ seq: fc.nat(), hash, samples: fc.nat(), start: ms, length: fc.nat(1e6) })
    .map(({ length, ...d }) => ({ ...d, end: d.start + length }));
  return fc
    .record({
      kind: fc.constantFrom('routine' as const, 'event' as const, 'trace' as const),
      vin: fc.constantFrom(null, '1M8GDM9AXKP042788', 'WVWZZZ1JZ3W386752'),
      seq: fc.nat(),
      prev: hash,
      start: ms,
      clock: fc.record({
        source: fc.constantFrom(
          'gnss' as const,
          'ntp' as const,
          'system' as const,
          'rtc' as const,
          'unsynced' as const,
        ),
        jumps: fc.array(
          fc.record({
            at: ms,
            deltaMs: fc.integer({ min: -1e9, max: 1e9 }),
            from: fc.constantFrom('gnss' as const, 'system' as const),
            to: fc.constantFrom('ntp' as const, 'unsynced' as const),
          }),
          { maxLength: 2 },
        ),
      }),
      signals: fc
        .uniqueArray(fc.stringMatching(/^Vehicle(\.[A-Z][a-z]{1,6}){1,3}$/), { maxLength: 5 })
        .chain((names) =>
          names.length ? fc.tuple(...names.map(column)) : fc.constant([] as SignalColumn[]),
        ),
      events: fc.array(event, { maxLength: 3 }),
      dropped: fc.array(dropped, { maxLength: 2 }),
    })
    .map((p) => ({
      version: 1,
      deviceId: device.deviceId,
      ...p,
      prev: p.seq === 0 ? ZERO_HASH : p.prev,
    }));
}
