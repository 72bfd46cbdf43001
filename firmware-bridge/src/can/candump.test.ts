import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatCandumpLine,
  newCandumpStats,
  parseCandumpLine,
  readCandump,
  replayCandump,
  writeCandump,
  type CandumpRecord,
} from './candump.js';
import { CanError, type CanErrorCode } from './errors.js';
import { createCanFrame } from './frame.js';

const LOG = fileURLToPath(
  new URL('../../vectors/can/comma2k19_rav4_ex1_seg40_bus0.log', import.meta.url),
);
const tmp = mkdtempSync(join(tmpdir(), 'enginechain-candump-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(it: AsyncIterable<CandumpRecord>): Promise<CandumpRecord[]> {
  const out: CandumpRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('parseCandumpLine', () => {
  it('reads the RAV4 first SPEED frame', () => {
    const v = parseCandumpLine('(46408.584954) can0 0B4#000000001D0B7A5E');
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.record.channel).toBe('can0');
    expect(v.record.frame).toMatchObject({ id: 0xb4, extended: false, rtr: false, fd: false });
    expect(Array.from(v.record.frame.data)).toEqual([0, 0, 0, 0, 0x1d, 0x0b, 0x7a, 0x5e]);
    expect(v.record.frame.time).toBeCloseTo(46408584.954, 6);
  });

  it('reads extended ids, RTR, CAN FD, dotted bytes, the -x direction suffix and empty payloads', () => {
    const ok = (line: string) => {
      const v = parseCandumpLine(line);
      if (!v.ok) throw v.error;
      return v.record.frame;
    };
    expect(ok('(1.000000) vcan0 18DAF110#0210')).toMatchObject({ id: 0x18daf110, extended: true });
    expect(ok('(1.000000) vcan0 123#R')).toMatchObject({ rtr: true, data: new Uint8Array(0) });
    expect(ok('(1.000000) vcan0 123#R4')).toMatchObject({ rtr: true, dlc: 4 });
    const fd = ok('(1.000000) can1 7E0##1' + '11'.repeat(12));
    expect(fd).toMatchObject({ fd: true, fdFlags: 1 });
    expect(fd.data.length).toBe(12);
    expect(Array.from(ok('(1.5) can0 123#11.22.33').data)).toEqual([0x11, 0x22, 0x33]);
    expect(ok('(1.5) can0 123#1122 R').data.length).toBe(2);
    expect(ok('(1.5) can0 351#').data.length).toBe(0);
  });

  /** One table of hostile lines, each with the verdict code it must get. */
  const HOSTILE: [string, string, CanErrorCode][] = [
    ['empty line', '', 'bad-line'],
    ['no timestamp', 'can0 123#00', 'bad-line'],
    ['unterminated timestamp', '(1.0 can0 123#00', 'bad-line'],
    ['truncated after timestamp', '(1.000000)', 'bad-line'],
    ['truncated after interface', '(1.000000) can0', 'bad-line'],
    ['truncated id', '(1.000000) can0 12', 'bad-line'],
    ['negative time', '(-1.0) can0 123#00', 'bad-time'],
    ['time not a number', '(abc) can0 123#00', 'bad-time'],
    ['id of 4 digits', '(1.0) can0 1234#00', 'bad-id'],
    ['id not hex', '(1.0) can0 1G4#00', 'bad-id'],
    ['standard id above 0x7FF', '(1.0) can0 800#00', 'bad-id'],
    ['huge extended id', '(1.0) can0 FFFFFFFF#00', 'bad-id'],
    ['error frame flag', '(1.0) can0 20000080#0000000000000000', 'bad-id'],
    ['bad hex', '(1.0) can0 0B4#00ZZ', 'bad-hex'],
    ['odd hex digits', '(1.0) can0 0B4#001', 'bad-hex'],
    ['DLC > 8 without FD', '(1.0) can0 0B4#000102030405060708', 'bad-length'],
    ['FD length 9', '(1.0) can0 0B4##0' + '00'.repeat(9), 'bad-length'],
    ['FD length 65', '(1.0) can0 0B4##0' + '00'.repeat(65), 'bad-length'],
    ['FD without flags', '(1.0) can0 0B4##', 'bad-flags'],
    ['FD flags not hex', '(1.0) can0 0B4##X00', 'bad-flags'],
    ['RTR length 9', '(1.0) can0 0B4#R9', 'bad-length'],
    ['trailing junk', '(1.0) can0 0B4#00 junk', 'bad-line'],
  ];
  it.each(HOSTILE)('%s -> %s', (_name, line, code) => {
    const v = parseCandumpLine(line);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.error).toBeInstanceOf(CanError);
    expect(v.error.code).toBe(code);
  });
});

describe('createCanFrame checks its arguments', () => {
  it.each([
    ['id too big', { id: 0x800, extended: false }],
    ['negative id', { id: -1 }],
    ['9 bytes classic', { id: 1, data: new Uint8Array(9) }],
    ['FD length 10', { id: 1, fd: true, data: new Uint8Array(10) }],
    ['rtr with data', { id: 1, rtr: true, data: new Uint8Array(1) }],
    ['NaN time', { id: 1, time: Number.NaN }],
    ['data not bytes', { id: 1, data: [1, 2] as unknown as Uint8Array }],
  ])('%s', (_name, fields) => {
    expect(() => createCanFrame(fields)).toThrow(CanError);
  });
});

describe('readCandump / writeCandump on the real RAV4 log', () => {
  it('reads all 53,800 frames streaming, writes them, and reads back equal frames', async () => {
    const stats = newCandumpStats();
    const records = await collect(readCandump(LOG, { stats }));
    expect(stats).toMatchObject({ lines: 53_800, frames: 53_800, bad: 0 });
    const out = join(tmp, 'roundtrip.log');
    expect(await writeCandump(records, out)).toBe(53_800);
    const again = await collect(readCandump(out));
    expect(again.length).toBe(records.length);
    const differing = records.filter((a, i) => {
      const b = again[i]!;
      return (
        b.channel !== a.channel ||
        b.frame.id !== a.frame.id ||
        b.frame.extended !== a.frame.extended ||
        b.frame.rtr !== a.frame.rtr ||
        b.frame.fd !== a.frame.fd ||
        Buffer.compare(b.frame.data, a.frame.data) !== 0 ||
        Math.abs(b.frame.time - a.frame.time) >= 1e-3
      );
    });
    expect(differing).toEqual([]);
    // The log is written byte for byte as can-utils writes it.
    expect(readFileSync(out, 'latin1')).toBe(readFileSync(LOG, 'latin1'));
  });

  it('counts bad lines without stopping, and keeps where they were', async () => {
    const text = [
      '(1.0) can0 123#00',
      'garbage',
      '',
      '(2.0) can0 0B4#00ZZ',
      '(3.0) can0 124#01',
    ].join('\n');
    const stats = newCandumpStats();
    const records = await collect(readCandump(Readable.from([text]), { stats }));
    expect(records.map((r) => r.frame.id)).toEqual([0x123, 0x124]);
    expect(stats).toMatchObject({
      lines: 5,
      frames: 2,
      skipped: 1,
      bad: 2,
      badByCode: { 'bad-line': 1, 'bad-hex': 1 },
    });
    expect(stats.firstBad.map((b) => b.line)).toEqual([2, 4]);
  });

  it('rejects a missing file with the I/O error', async () => {
    await expect(collect(readCandump(join(tmp, 'nope.log')))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('formats FD, RTR and extended frames as candump does', () => {
    const fd = createCanFrame({
      id: 0x7e0,
      fd: true,
      fdFlags: 1,
      data: new Uint8Array(12).fill(0xab),
      time: 1500,
    });
    expect(formatCandumpLine(fd, 'can1')).toBe('(1.500000) can1 7E0##1' + 'AB'.repeat(12));
    expect(formatCandumpLine(createCanFrame({ id: 0x18daf110, rtr: true, dlc: 3 }))).toBe(
      '(0.000000) can0 18DAF110#R3',
    );
  });
});

describe('replayCandump pacing', () => {
  const records = [0, 100, 100, 350].map((ms, i) => ({
    channel: 'can0',
    frame: createCanFrame({ id: i, time: 1_000_000 + ms }),
  }));

  it('waits the log gaps at speed 1 and a tenth of them at speed 10', async () => {
    for (const speed of [1, 10]) {
      let clock = 0;
      const waits: number[] = [];
      const sleep = async (ms: number) => {
        waits.push(ms);
        clock += ms;
      };
      const out = await collect(replayCandump(records, { speed, now: () => clock, sleep }));
      expect(out.map((r) => r.frame.id)).toEqual([0, 1, 2, 3]);
      expect(waits).toEqual([100 / speed, 250 / speed]);
      expect(out[3]!.frame.time).toBe(1_000_350);
    }
  });

  it('never waits at speed Infinity and refuses speed 0', async () => {
    const waits: number[] = [];
    await collect(
      replayCandump(records, { speed: Infinity, sleep: async (ms) => void waits.push(ms) }),
    );
    expect(waits).toEqual([]);
    await expect(collect(replayCandump(records, { speed: 0 }))).rejects.toBeInstanceOf(CanError);
  });
});
