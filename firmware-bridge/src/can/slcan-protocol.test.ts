import { describe, expect, it } from 'vitest';
import { CanError } from './errors.js';
import {
  SlcanTimestampUnwrapper,
  SlcanTokenizer,
  encodeSlcanFrame,
  parseSlcanFrame,
  slcanBitrateCommand,
} from './slcan-protocol.js';

const frame = (over: object) => ({
  id: 0x0b4,
  extended: false,
  rtr: false,
  fd: false,
  data: new Uint8Array(0),
  time: 0,
  ...over,
});

describe('SLCAN (Lawicel) frames', () => {
  it('encodes t, T, r, R and an optional timestamp as the CANUSB manual shows', () => {
    expect(
      encodeSlcanFrame(frame({ data: Uint8Array.from([0, 0, 0, 0, 0x1d, 0x0b, 0x7a, 0x5e]) })),
    ).toBe('t0B48000000001D0B7A5E');
    expect(
      encodeSlcanFrame(frame({ id: 0x18daf110, extended: true, data: Uint8Array.from([2, 0x10]) })),
    ).toBe('T18DAF11020210');
    expect(encodeSlcanFrame(frame({ rtr: true, dlc: 4 }))).toBe('r0B44');
    expect(encodeSlcanFrame(frame({ id: 0x1abcdef, extended: true, rtr: true, dlc: 0 }))).toBe(
      'R01ABCDEF0',
    );
    expect(encodeSlcanFrame(frame({ data: Uint8Array.from([1]) }), 0xea5f)).toBe('t0B4101EA5F');
    expect(() => encodeSlcanFrame(frame({ fd: true }))).toThrow(CanError);
    expect(() => encodeSlcanFrame(frame({ id: 0x800 }))).toThrow(CanError);
  });

  it('parses what it encodes, with and without timestamps', () => {
    expect(parseSlcanFrame('t0B48000000001D0B7A5E')).toMatchObject({
      id: 0xb4,
      extended: false,
      dlc: 8,
    });
    expect(parseSlcanFrame('t0B4101EA5F')).toMatchObject({
      data: Uint8Array.from([1]),
      deviceTimeMs: 0xea5f,
    });
    expect(parseSlcanFrame('R01ABCDEF4')).toMatchObject({
      id: 0x1abcdef,
      extended: true,
      rtr: true,
      dlc: 4,
    });
    expect(parseSlcanFrame('t0000')).toMatchObject({ id: 0, data: new Uint8Array(0) });
  });

  it.each([
    ['truncated data', 't0B4211'],
    ['DLC 9', 't0B49000000000000000000'],
    ['bad hex', 't0B41ZZ'],
    ['standard id too big', 't8001AA'],
    ['extended id too big', 'T200000001AA'],
    ['too long', 't0B41AA1234567'],
    ['not a frame', 'V1013'],
  ])('refuses %s', (_name, line) => {
    expect(parseSlcanFrame(line)).toBeUndefined();
  });

  it('maps S0..S8 and refuses other bitrates', () => {
    expect(slcanBitrateCommand(10_000)).toBe('S0');
    expect(slcanBitrateCommand(500_000)).toBe('S6');
    expect(slcanBitrateCommand(1_000_000)).toBe('S8');
    expect(slcanBitrateCommand(83_333)).toBeUndefined();
  });
});

describe('SlcanTokenizer', () => {
  it('splits on CR, takes BEL as an error reply, drops LF and overlong noise', () => {
    const t = new SlcanTokenizer();
    const enc = (s: string) => Buffer.from(s, 'latin1');
    expect(t.push(enc('V10'))).toEqual([]);
    expect(t.push(enc('13\r\n\x07t1230\r'))).toEqual([
      { kind: 'line', text: 'V1013' },
      { kind: 'bell' },
      { kind: 'line', text: 't1230' },
    ]);
    expect(t.push(enc('x'.repeat(500) + '\rz\r'))).toEqual([
      { kind: 'overflow' },
      { kind: 'line', text: 'z' },
    ]);
  });
});

describe('SlcanTimestampUnwrapper', () => {
  it('anchors on the host clock and counts 60,000 ms wraps', () => {
    const u = new SlcanTimestampUnwrapper();
    expect(u.toHostTime(59_000, 1_000_000)).toBe(1_000_000);
    expect(u.toHostTime(59_900, 1_000_950)).toBe(1_000_900);
    expect(u.toHostTime(100, 1_001_150)).toBe(1_001_100);
    expect(u.toHostTime(200, 1_001_250)).toBe(1_001_200);
  });

  it('wraps at 65,536 for clones that use the full 16 bits', () => {
    const u = new SlcanTimestampUnwrapper(65_536);
    u.toHostTime(65_500, 0);
    expect(u.toHostTime(10, 50)).toBe(46);
  });
});
