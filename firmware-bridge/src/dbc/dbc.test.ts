import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DbcDecoder } from './decode.js';
import { encodeMessage } from './encode.js';
import { DbcError, type DbcErrorCode } from './errors.js';
import { parseDbc } from './parse.js';
import { referenceDecodeSignal } from './reference.js';
import type { DbcMessage, DbcSignal } from './types.js';

/** Multiplexing, extended ids, CAN FD length, floats, attributes: what opendbc's Toyota file lacks. */
const FEATURES = `VERSION "1.0"

NS_ :
    CM_
    BA_DEF_
    SIG_VALTYPE_

BS_:

BU_: ECU GW

BO_ 256 MUXED: 8 ECU
 SG_ MUX M : 0|4@1+ (1,0) [0|15] "" GW
 SG_ TEMP m0 : 8|12@1- (0.1,-40) [-40|150] "degC" GW
 SG_ PRESSURE m1 : 8|16@1+ (0.5,0) [0|1000] "kPa" GW
 SG_ FLAG m1 : 63|1@0+ (1,0) [0|1] "" GW
 SG_ COUNTER : 7|4@0+ (1,0) [0|15] "" GW

BO_ 2566844926 J1939_LIKE: 8 GW
 SG_ ENGINE_SPEED : 24|16@1+ (0.125,0) [0|8031.875] "rpm" ECU

BO_ 1792 FD_FRAME: 64 ECU
 SG_ WIDE : 7|64@0+ (1,0) [0|0] "" GW
 SG_ LAST : 504|8@1+ (1,0) [0|255] "" GW

BO_ 1793 FLOATS: 16 ECU
 SG_ F32 : 0|32@1- (1,0) [0|0] "" GW
 SG_ F64 : 32|64@1- (2,1) [0|0] "" GW

CM_ BO_ 256 "a multiplexed message";
CM_ SG_ 256 TEMP "selected by MUX = 0";
BA_DEF_ BO_ "GenMsgCycleTime" INT 0 10000;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_ "GenMsgCycleTime" BO_ 256 100;
BA_ "SomethingElse" SG_ 256 TEMP 3;
VAL_ 256 MUX 0 "temperature" 1 "pressure" ;
VAL_TABLE_ Unused 1 "one" 0 "zero";
SIG_VALTYPE_ 1793 F32 : 1;
SIG_VALTYPE_ 1793 F64 : 2;
SG_MUL_VAL_ 256 TEMP MUX 0-0;
`;

function message(db: ReturnType<typeof parseDbc>, name: string): DbcMessage {
  const m = db.messages.find((x) => x.name === name);
  if (!m) throw new Error(name);
  return m;
}

describe('parseDbc: grammar beyond the Toyota file', () => {
  const db = parseDbc(FEATURES);

  it('reads multiplexer switch and m<N> signals, comments, cycle time and VAL_ on the switch', () => {
    const m = message(db, 'MUXED');
    expect(m.comment).toBe('a multiplexed message');
    expect(m.cycleTimeMs).toBe(100);
    const mux = m.signals.find((s) => s.name === 'MUX');
    expect(mux).toMatchObject({ isMultiplexer: true, byteOrder: 'intel' });
    expect(mux?.valueNames?.get(1)).toBe('pressure');
    expect(m.signals.find((s) => s.name === 'TEMP')).toMatchObject({
      multiplexerValue: 0,
      comment: 'selected by MUX = 0',
    });
    expect(m.signals.find((s) => s.name === 'PRESSURE')?.multiplexerValue).toBe(1);
    expect(db.version).toBe('1.0');
  });

  it('takes bit 31 of the id as the extended flag', () => {
    const m = message(db, 'J1939_LIKE');
    expect(m.extended).toBe(true);
    expect(m.id).toBe(0x18fef1fe);
  });

  it('decodes only the signals the multiplexer selects', () => {
    const decoder = new DbcDecoder(db);
    const m = message(db, 'MUXED');
    const temp = encodeMessage(m, { MUX: 0, TEMP: 21.5, COUNTER: 3 });
    const press = encodeMessage(m, { MUX: 1, PRESSURE: 101.5, FLAG: 1, COUNTER: 9 });
    const a = decoder.decode({
      id: 256,
      extended: false,
      rtr: false,
      fd: false,
      data: temp,
      time: 0,
    });
    const b = decoder.decode({
      id: 256,
      extended: false,
      rtr: false,
      fd: false,
      data: press,
      time: 0,
    });
    expect(a.kind === 'decoded' && a.values).toEqual({ MUX: 0, TEMP: 21.5, COUNTER: 3 });
    expect(b.kind === 'decoded' && b.values).toEqual({
      MUX: 1,
      PRESSURE: 101.5,
      FLAG: 1,
      COUNTER: 9,
    });
    const out = new Float64Array(5);
    decoder.decodeInto(256, false, temp, out);
    expect(Number.isNaN(out[2])).toBe(true);
    expect(() => encodeMessage(m, { MUX: 0, PRESSURE: 3 })).toThrow(/PRESSURE needs MUX = 1/);
  });

  it('decodes extended ids, 64-byte CAN FD payloads, 64-bit and IEEE float signals', () => {
    const decoder = new DbcDecoder(db);
    const j = message(db, 'J1939_LIKE');
    const data = encodeMessage(j, { ENGINE_SPEED: 1850.25 });
    expect(
      decoder.decode({ id: 0x18fef1fe, extended: true, rtr: false, fd: false, data, time: 0 }),
    ).toMatchObject({
      kind: 'decoded',
      values: { ENGINE_SPEED: 1850.25 },
    });
    // Same number as a standard id is a different frame.
    expect(
      decoder.decode({
        id: 0x18fef1fe & 0x7ff,
        extended: false,
        rtr: false,
        fd: false,
        data,
        time: 0,
      }).kind,
    ).toBe('unknown-id');
    const fd = new Uint8Array(64);
    fd.set([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
    fd[63] = 0x5a;
    const r = decoder.decode({
      id: 1792,
      extended: false,
      rtr: false,
      fd: true,
      data: fd,
      time: 0,
    });
    expect(r.kind === 'decoded' && r.values.WIDE).toBe(Number(0x0123456789abcdefn));
    expect(r.kind === 'decoded' && r.values.LAST).toBe(0x5a);
    const floats = encodeMessage(message(db, 'FLOATS'), { F32: -1.5, F64: 1e300 + 1 });
    const f = decoder.decode({
      id: 1793,
      extended: false,
      rtr: false,
      fd: true,
      data: floats,
      time: 0,
    });
    expect(f.kind === 'decoded' && f.values).toEqual({ F32: -1.5, F64: 1e300 + 1 });
  });
});

/** One table of hostile DBC inputs, each with the code it must produce. */
const HOSTILE_DBC: [string, string, DbcErrorCode][] = [
  ['signal of length 0', 'BO_ 1 A: 8 X\n SG_ S : 0|0@1+ (1,0) [0|0] "" X\n', 'bad-signal'],
  ['signal of 65 bits', 'BO_ 1 A: 8 X\n SG_ S : 0|65@1+ (1,0) [0|0] "" X\n', 'bad-signal'],
  ['signal past 64 bytes', 'BO_ 1 A: 8 X\n SG_ S : 510|8@1+ (1,0) [0|0] "" X\n', 'bad-signal'],
  ['byte order 2', 'BO_ 1 A: 8 X\n SG_ S : 0|8@2+ (1,0) [0|0] "" X\n', 'syntax'],
  ['no sign', 'BO_ 1 A: 8 X\n SG_ S : 0|8@1 (1,0) [0|0] "" X\n', 'syntax'],
  ['missing colon', 'BO_ 1 A 8 X\n', 'syntax'],
  ['SG_ before BO_', ' SG_ S : 0|8@1+ (1,0) [0|0] "" X\n', 'syntax'],
  ['unterminated string', 'BO_ 1 A: 8 X\n SG_ S : 0|8@1+ (1,0) [0|0] "km/h X\n', 'syntax'],
  ['unterminated CM_', 'CM_ "no semicolon"', 'syntax'],
  ['unknown keyword', 'FOO_ 1 2;\n', 'syntax'],
  ['stray character', 'BO_ 1 A: 8 X $\n', 'syntax'],
  ['standard id above 0x7FF', 'BO_ 2048 A: 8 X\n', 'syntax'],
  ['id above 32 bits', 'BO_ 4294967296 A: 8 X\n', 'syntax'],
  ['extended id with bit 29 set', 'BO_ 2684354560 A: 8 X\n', 'syntax'],
  ['length 65', 'BO_ 1 A: 65 X\n', 'syntax'],
  ['duplicate id', 'BO_ 1 A: 8 X\nBO_ 1 B: 8 X\n', 'duplicate'],
  [
    'duplicate signal',
    'BO_ 1 A: 8 X\n SG_ S : 0|8@1+ (1,0) [0|0] "" X\n SG_ S : 8|8@1+ (1,0) [0|0] "" X\n',
    'duplicate',
  ],
  [
    'float on 16 bits',
    'BO_ 1 A: 8 X\n SG_ S : 0|16@1+ (1,0) [0|0] "" X\nSIG_VALTYPE_ 1 S : 1;\n',
    'bad-signal',
  ],
  ['fractional start bit', 'BO_ 1 A: 8 X\n SG_ S : 0.5|8@1+ (1,0) [0|0] "" X\n', 'syntax'],
  ['bad multiplexer indicator', 'BO_ 1 A: 8 X\n SG_ S x3 : 0|8@1+ (1,0) [0|0] "" X\n', 'syntax'],
];

describe('parseDbc: hostile input', () => {
  it.each(HOSTILE_DBC)('%s -> DbcError', (_name, text, code) => {
    let caught: unknown;
    try {
      parseDbc(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DbcError);
    expect((caught as DbcError).code).toBe(code);
    expect((caught as DbcError).message).toMatch(/line \d+|end of file/);
  });

  it('refuses a non-string and tolerates dangling comments as warnings', () => {
    expect(() => parseDbc(undefined as unknown as string)).toThrow(DbcError);
    const db = parseDbc(
      'BO_ 1 A: 8 X\n SG_ S : 0|8@1+ (1,0) [0|0] "" X\nCM_ SG_ 2 S "gone";\nVAL_ 1 T 0 "x";\n',
    );
    expect(db.warnings.length).toBe(2);
  });

  it('encoder refuses values it cannot represent unless asked to clamp', () => {
    const db = parseDbc(
      'BO_ 1 A: 2 X\n SG_ S : 0|8@1- (0.5,0) [0|0] "" X\n SG_ U : 15|8@0+ (1,0) [0|0] "" X\n',
    );
    const m = message(db, 'A');
    expect(() => encodeMessage(m, { S: 64 })).toThrow(
      expect.objectContaining({ code: 'bad-value' }),
    );
    expect(() => encodeMessage(m, { U: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'bad-value' }),
    );
    expect(() => encodeMessage(m, { NOPE: 1 })).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
    expect(Array.from(encodeMessage(m, { S: 64, U: -3 }, { clamp: true }))).toEqual([0x7f, 0]);
    expect(Array.from(encodeMessage(m, { S: -64, U: 300 }, { clamp: true }))).toEqual([0x80, 0xff]);
  });
});

/** A random signal layout that fits in `bytes` bytes. */
function arbitrarySignal(bytes: number): fc.Arbitrary<DbcSignal> {
  return fc
    .record({
      length: fc.integer({ min: 1, max: 64 }),
      startBit: fc.integer({ min: 0, max: bytes * 8 - 1 }),
      motorola: fc.boolean(),
      signed: fc.boolean(),
    })
    .filter(({ length, startBit, motorola }) => {
      if (!motorola) return startBit + length <= bytes * 8;
      const msb = (startBit >> 3) * 8 + (7 - (startBit & 7));
      return msb + length <= bytes * 8;
    })
    .map(({ length, startBit, motorola, signed }) => ({
      name: 'S',
      startBit,
      length,
      byteOrder: motorola ? ('motorola' as const) : ('intel' as const),
      signed,
      factor: 1,
      offset: 0,
      minimum: 0,
      maximum: 0,
      unit: '',
      receivers: [],
      isMultiplexer: false,
      valueType: 'integer' as const,
    }));
}

describe('compiled decoder vs the bit-by-bit reference (property)', () => {
  it('agrees on random layouts and random payloads, and decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(
        arbitrarySignal(16),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (signal, data) => {
          const msg: DbcMessage = {
            id: 5,
            extended: false,
            name: 'M',
            length: 16,
            transmitter: '',
            signals: [signal],
          };
          const decoder = new DbcDecoder({ version: '', nodes: [], messages: [msg], warnings: [] });
          const r = decoder.decode({ id: 5, extended: false, rtr: false, fd: true, data, time: 0 });
          const expected = referenceDecodeSignal(signal, data);
          expect(r.kind === 'decoded' && r.values.S).toBe(expected);
          if (signal.length <= 53) {
            const again = decoder.decode({
              id: 5,
              extended: false,
              rtr: false,
              fd: true,
              data: encodeMessage(msg, { S: expected as number }),
              time: 0,
            });
            expect(again.kind === 'decoded' && again.values.S).toBe(expected);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
