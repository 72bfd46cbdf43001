import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cborReader, decodeCbor, skipItem } from './decode.js';
import { encodeCbor } from './encode.js';
import { CborFloat, CborTag, type CborKey, type CborValue } from './types.js';
import { WireFormatError } from './wire-format-error.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireFormatError) return err.code;
    throw err;
  }
  return 'no error';
}

/** RFC 8949 Appendix A, the rows in the subset we support, with their preferred encodings. */
const RFC8949_APPENDIX_A: readonly [string, CborValue, string][] = [
  ['0', 0, '00'],
  ['1', 1, '01'],
  ['10', 10, '0a'],
  ['23', 23, '17'],
  ['24', 24, '1818'],
  ['25', 25, '1819'],
  ['100', 100, '1864'],
  ['1000', 1000, '1903e8'],
  ['1000000', 1000000, '1a000f4240'],
  ['1000000000000', 1000000000000, '1b000000e8d4a51000'],
  ['18446744073709551615', 18446744073709551615n, '1bffffffffffffffff'],
  ['-18446744073709551616', -18446744073709551616n, '3bffffffffffffffff'],
  ['-1', -1, '20'],
  ['-10', -10, '29'],
  ['-100', -100, '3863'],
  ['-1000', -1000, '3903e7'],
  ['-0.0', -0, 'f98000'],
  ['1.1', 1.1, 'fb3ff199999999999a'],
  ['1.5', 1.5, 'f93e00'],
  ['5.960464477539063e-8', 5.960464477539063e-8, 'f90001'],
  ['0.00006103515625', 0.00006103515625, 'f90400'],
  ['-4.1', -4.1, 'fbc010666666666666'],
  ['3.4028234663852886e+38', 3.4028234663852886e38, 'fa7f7fffff'],
  ['1.0e+300', 1.0e300, 'fb7e37e43c8800759c'],
  ['Infinity', Infinity, 'f97c00'],
  ['NaN', NaN, 'f97e00'],
  ['-Infinity', -Infinity, 'f9fc00'],
  ['false', false, 'f4'],
  ['true', true, 'f5'],
  ['null', null, 'f6'],
  [
    '0("2013-03-21T20:04:00Z")',
    new CborTag(0, '2013-03-21T20:04:00Z'),
    'c074323031332d30332d32315432303a30343a30305a',
  ],
  ['1(1363896240)', new CborTag(1, 1363896240), 'c11a514b67b0'],
  ['1(1363896240.5)', new CborTag(1, 1363896240.5), 'c1fb41d452d9ec200000'],
  ["23(h'01020304')", new CborTag(23, unhex('01020304')), 'd74401020304'],
  ["24(h'6449455446')", new CborTag(24, unhex('6449455446')), 'd818456449455446'],
  [
    '32("http://www.example.com")',
    new CborTag(32, 'http://www.example.com'),
    'd82076687474703a2f2f7777772e6578616d706c652e636f6d',
  ],
  ["h''", new Uint8Array(0), '40'],
  ["h'01020304'", unhex('01020304'), '4401020304'],
  ['""', '', '60'],
  ['"a"', 'a', '6161'],
  ['"IETF"', 'IETF', '6449455446'],
  ['"\\"\\\\"', '"\\', '62225c'],
  ['"\\u00fc"', '\u00fc', '62c3bc'],
  ['"\\u6c34"', '\u6c34', '63e6b0b4'],
  ['"\\ud800\\udd51"', '\ud800\udd51', '64f0908591'],
  ['[]', [], '80'],
  ['[1, 2, 3]', [1, 2, 3], '83010203'],
  ['[1, [2, 3], [4, 5]]', [1, [2, 3], [4, 5]], '8301820203820405'],
  [
    '[1, 2, ..., 25]',
    Array.from({ length: 25 }, (_, i) => i + 1),
    '98190102030405060708090a0b0c0d0e0f101112131415161718181819',
  ],
  ['{}', new Map(), 'a0'],
  [
    '{1: 2, 3: 4}',
    new Map([
      [1, 2],
      [3, 4],
    ]),
    'a201020304',
  ],
  [
    '{"a": 1, "b": [2, 3]}',
    new Map<CborKey, CborValue>([
      ['a', 1],
      ['b', [2, 3]],
    ]),
    'a26161016162820203',
  ],
  ['["a", {"b": "c"}]', ['a', new Map([['b', 'c']])], '826161a161626163'],
  [
    '{"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}',
    new Map(['a', 'b', 'c', 'd', 'e'].map((k) => [k, k.toUpperCase()])),
    'a56161614161626142616361436164614461656145',
  ],
];

/** Appendix A floats with integral values: preferred encoding needs an explicit CborFloat. */
const RFC8949_INTEGRAL_FLOATS: readonly [number, string][] = [
  [0, 'f90000'],
  [1, 'f93c00'],
  [65504, 'f97bff'],
  [100000, 'fa47c35000'],
  [-4, 'f9c400'],
];

describe('CBOR: RFC 8949 Appendix A vectors', () => {
  it.each(RFC8949_APPENDIX_A)(
    '%s encodes to its preferred serialisation and decodes back',
    (_d, value, h) => {
      expect(hex(encodeCbor(value))).toBe(h);
      expect(decodeCbor(unhex(h), { deterministic: true })).toEqual(value);
    },
  );

  it.each(RFC8949_INTEGRAL_FLOATS)(
    'float %d: CborFloat gives %s; deterministic decode refuses it',
    (v, h) => {
      expect(hex(encodeCbor(new CborFloat(v)))).toBe(h);
      expect(decodeCbor(unhex(h))).toBe(v);
      expect(codeOf(() => decodeCbor(unhex(h), { deterministic: true }))).toBe('not-deterministic');
    },
  );

  it('plain integral numbers encode as integers (our deterministic rule)', () => {
    expect(hex(encodeCbor(1))).toBe('01');
    expect(hex(encodeCbor(-4))).toBe('23');
  });

  it.each([
    ['fa7f800000', Infinity],
    ['fa7fc00000', NaN],
    ['fb7ff0000000000000', Infinity],
    ['fb7ff8000000000000', NaN],
    ['fbfff0000000000000', -Infinity],
  ])('non-preferred float %s decodes leniently, refused when deterministic', (h, v) => {
    expect(decodeCbor(unhex(h))).toEqual(v);
    expect(codeOf(() => decodeCbor(unhex(h), { deterministic: true }))).toBe('not-deterministic');
  });

  it.each([
    ['5f42010243030405ff', 'indefinite byte string'],
    ['7f657374726561646d696e67ff', 'indefinite text string'],
    ['9fff', 'indefinite empty array'],
    ['9f018202039f0405ffff', 'indefinite array'],
    ['bf61610161629f0203ffff', 'indefinite map'],
    ['f7', 'undefined'],
    ['f0', 'simple(16)'],
    ['f8ff', 'simple(255)'],
  ])('%s (%s) is refused with bad-cbor', (h) => {
    expect(codeOf(() => decodeCbor(unhex(h)))).toBe('bad-cbor');
  });

  it('18446744073709551616 (bignum, tag 2) stays a generic tag: we do not interpret bignums', () => {
    expect(decodeCbor(unhex('c249010000000000000000'))).toEqual(
      new CborTag(2, unhex('010000000000000000')),
    );
  });
});

describe('CBOR: strict decoding of hostile input', () => {
  it.each([
    ['', 'empty'],
    ['18', 'truncated argument'],
    ['4401', 'byte string longer than the input'],
    ['0001', 'trailing byte'],
    ['62c328', 'invalid UTF-8'],
    ['63eda080', 'UTF-8 surrogate'],
    ['a201020103', 'duplicate key'],
    ['a2010218010203', 'duplicate key spelled longer (lenient mode)'],
    ['a14101f6', 'byte-string key'],
    ['1c', 'reserved additional info'],
    ['ff', 'lone break'],
    ['9b00000001000000000000', 'array length beyond input'],
    ['bb0000000100000000', 'map length beyond input'],
    ['5b7fffffffffffffff', '2^63 length'],
  ])('%s (%s) gives bad-cbor', (h) => {
    expect(codeOf(() => decodeCbor(unhex(h)))).toBe('bad-cbor');
  });

  it('keeps a leading BOM in text (TextDecoder would strip it)', () => {
    expect(decodeCbor(unhex('63efbbbf'))).toBe('\ufeff');
  });

  it.each([
    ['1817', 'uint 23 in one extra byte'],
    ['190017', 'uint in two bytes'],
    ['3a0000ffff', 'negative in four bytes'],
    ['5800', 'empty byte string with a length byte'],
    ['a2030401 02', 'keys out of order'],
    ['a2616201616102', 'text keys out of order'],
    ['a2616101186402', 'mixed keys: "a" before 100'],
  ])('%s (%s) gives not-deterministic', (h) => {
    const bytes = unhex(h.replace(/ /g, ''));
    expect(codeOf(() => decodeCbor(bytes, { deterministic: true }))).toBe('not-deterministic');
    expect(() => decodeCbor(bytes)).not.toThrow();
  });

  it('orders keys bytewise (RFC 8949 §4.2.1), not length-first: 100 after "a"', () => {
    const m = new Map<CborKey, CborValue>([
      ['a', 1],
      [100, 2],
      [-1, 3],
      [10, 4],
    ]);
    expect(hex(encodeCbor(m))).toBe('a40a041864022003616101');
    const keys = [
      ...(decodeCbor(encodeCbor(m), { deterministic: true }) as Map<CborKey, CborValue>).keys(),
    ];
    expect(keys).toEqual([10, 100, -1, 'a']);
  });

  it('decodes short ASCII text right even when two strings share a cache slot', () => {
    // These two collide under the 32-bit FNV-1a hash the decoder keys short strings by.
    for (const [a, b] of [
      ['Vehicle.Signal1pvu', 'Vehicle.Signalg3ea'],
      ['Vehicle.Signalg3ea', 'Vehicle.Signal1pvu'],
    ] as const) {
      expect(decodeCbor(encodeCbor([a, b, a, b]))).toEqual([a, b, a, b]);
    }
  });

  it('copies byte strings out of the input unless views are asked for', () => {
    const bytes = encodeCbor([new Uint8Array([1, 2, 3])]);
    const copied = (decodeCbor(bytes) as Uint8Array[])[0] as Uint8Array;
    const viewed = (decodeCbor(bytes, { byteStringViews: true }) as Uint8Array[])[0] as Uint8Array;
    expect(copied.buffer).not.toBe(bytes.buffer);
    expect(viewed.buffer).toBe(bytes.buffer);
    bytes[bytes.length - 1] = 9;
    expect([...copied]).toEqual([1, 2, 3]);
    expect([...viewed]).toEqual([1, 2, 9]);
  });

  it('checks the size before reading a byte', () => {
    const big = new Uint8Array(300 * 1024); // all zero bytes: not even valid as one item
    expect(codeOf(() => decodeCbor(big))).toBe('too-large');
    expect(codeOf(() => decodeCbor(unhex('820102'), { maxBytes: 2 }))).toBe('too-large');
  });

  it('bounds nesting depth and item count', () => {
    const deep = new Uint8Array(40).fill(0x81);
    deep[39] = 0x00;
    expect(codeOf(() => decodeCbor(deep))).toBe('over-limit');
    expect(decodeCbor(deep, { maxDepth: 39 })).toBeDefined();
    const tags = unhex('d818'.repeat(10) + '00');
    expect(codeOf(() => decodeCbor(tags, { maxDepth: 5 }))).toBe('over-limit');
    expect(codeOf(() => decodeCbor(unhex('83010203'), { maxItems: 3 }))).toBe('over-limit');
    expect(decodeCbor(unhex('83010203'), { maxItems: 4 })).toEqual([1, 2, 3]);
  });

  it('throws bad-input for a non-Uint8Array argument', () => {
    expect(codeOf(() => decodeCbor('00' as unknown as Uint8Array))).toBe('bad-input');
  });

  it('random bytes only ever give a value or a WireFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, deterministic) => {
        try {
          decodeCbor(bytes, { deterministic });
        } catch (err) {
          expect(err).toBeInstanceOf(WireFormatError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('CBOR: encoder', () => {
  it('refuses values outside the data model with bad-input naming the path', () => {
    expect(() => encodeCbor({ a: [1, undefined as unknown as CborValue] })).toThrow(/\$\.a\[1\]/);
    expect(codeOf(() => encodeCbor(2n ** 64n))).toBe('bad-input');
    expect(codeOf(() => encodeCbor(-(2n ** 64n) - 1n))).toBe('bad-input');
    expect(codeOf(() => encodeCbor(new Date() as unknown as CborValue))).toBe('bad-input');
    expect(codeOf(() => encodeCbor(new Map<CborKey, CborValue>([[1.5, 1]])))).toBe('bad-input');
  });

  it('returns results that share nothing with each other (its output buffer is reused)', () => {
    const big = new Uint8Array(300_000).fill(7); // beyond the reused buffer: it grows
    const first = encodeCbor(['ünïcode', 'ascii', big]);
    const copy = first.slice();
    const second = encodeCbor(['other', new Uint8Array(40).fill(1)]);
    expect(first).toEqual(copy);
    expect(decodeCbor(first, { maxBytes: 400_000 })).toEqual(['ünïcode', 'ascii', big]);
    expect(decodeCbor(second)).toEqual(['other', new Uint8Array(40).fill(1)]);
  });

  it('encodes plain records as text-keyed maps, sorted', () => {
    expect(hex(encodeCbor({ b: 1, a: 2 }))).toBe('a2616102616201');
  });

  it('encodes a map the same whatever order its small integer keys were inserted in', () => {
    const entries: [CborKey, CborValue][] = [
      [0, 'batch'],
      [1, new Uint8Array([1, 2])],
      [4, [1, 2]],
      [23, new Map<CborKey, CborValue>([[2, null]])],
    ];
    const sorted = hex(encodeCbor(new Map(entries)));
    expect(sorted).toBe('a400656261746368014201020482010217a102f6');
    expect(hex(encodeCbor(new Map([...entries].reverse())))).toBe(sorted);
  });
});

const cborKey: fc.Arbitrary<CborKey> = fc.oneof(
  fc.integer({ min: -1000, max: 1e9 }),
  fc.string({ maxLength: 6 }),
);
const leaf: fc.Arbitrary<CborValue> = fc.oneof(
  fc.maxSafeInteger(),
  fc
    .bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n })
    .map((b) =>
      b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b,
    ),
  fc.double().filter((d) => !Number.isSafeInteger(d) || Object.is(d, -0)),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.uint8Array({ maxLength: 12 }),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(cborKey, tie('v')), { maxLength: 5, selector: ([k]) => k })
      .map((e) => new Map(e)),
    fc.tuple(fc.nat(), tie('v')).map(([t, v]) => new CborTag(t, v)),
  ),
})).v;

describe('CBOR: properties', () => {
  it('decode(encode(v)) equals v and the encoding is deterministic', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCbor(v);
        const back = decodeCbor(bytes, { deterministic: true });
        expect(back).toEqual(v);
        expect(hex(encodeCbor(back))).toBe(hex(bytes));
      }),
      { numRuns: 1500 },
    );
  });

  it('every truncation of a valid encoding is refused with bad-cbor', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCbor(v);
        for (let n = 0; n < bytes.length; n++) {
          expect(codeOf(() => decodeCbor(bytes.subarray(0, n)))).toBe('bad-cbor');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('skipItem', () => {
  const readerOf = (bytes: Uint8Array) =>
    cborReader(bytes, {
      maxItems: bytes.length,
      maxDepth: 32,
      deterministic: true,
      byteStringViews: true,
    });

  it('steps over exactly one item of any kind, nested or not', () => {
    fc.assert(
      fc.property(value, value, (first, second) => {
        const a = encodeCbor(first);
        const both = new Uint8Array([...a, ...encodeCbor(second)]);
        const r = readerOf(both);
        skipItem(r);
        expect(r.pos).toBe(a.length);
        skipItem(r);
        expect(r.pos).toBe(both.length);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every truncation, reserved heads and indefinite lengths with bad-cbor', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCbor(v);
        for (let n = 0; n < bytes.length; n++)
          expect(codeOf(() => skipItem(readerOf(bytes.subarray(0, n))))).toBe('bad-cbor');
      }),
      { numRuns: 200 },
    );
    for (const h of ['1c', '3f', '5f', '9f', 'bf', 'ff', 'f7', 'e0'])
      expect(codeOf(() => skipItem(readerOf(unhex(h))))).toBe('bad-cbor');
  });
});
