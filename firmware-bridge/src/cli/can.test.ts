import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/support/run-cli.js';
import { CanCommandError, runCanDecode } from './can.js';

const dir = fileURLToPath(new URL('../../vectors/can/', import.meta.url));
const DBC = `${dir}toyota_new_mc_pt_generated.dbc`;
const LOG = `${dir}comma2k19_rav4_ex1_seg40_bus0.log`;
const tmp = mkdtempSync(join(tmpdir(), 'enginechain-can-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('can decode (logic)', () => {
  it('decodes the RAV4 log: 38,983 frames, the rest counted as not in the DBC', async () => {
    const lines: string[] = [];
    const s = await runCanDecode(DBC, LOG, { emit: (l) => lines.push(l) });
    expect(s).toMatchObject({ decoded: 38_983, unknown: 14_817, short: 0 });
    expect(lines.length).toBe(38_983);
    expect(lines.find((l) => l.includes(' 0B4 SPEED:'))).toBe(
      '46408.584954 0B4 SPEED: ENCODER=29, SPEED=29.38 km/h, CHECKSUM=94',
    );
    expect(lines.find((l) => l.includes('GEAR_PACKET'))).toContain('GEAR=0 (D)');
  });

  it('--json gives one object per line with t, id, message, signals', async () => {
    const lines: string[] = [];
    await runCanDecode(DBC, LOG, { json: true, emit: (l) => lines.push(l) });
    const speed = lines
      .map(
        (l) =>
          JSON.parse(l) as {
            t: number;
            id: number;
            message: string;
            signals: Record<string, number>;
          },
      )
      .find((o) => o.id === 0xb4);
    expect(speed).toEqual({
      t: 46408.584954,
      id: 180,
      message: 'SPEED',
      signals: { ENCODER: 29, SPEED: 29.38, CHECKSUM: 94 },
    });
  });

  it('fails clearly on a missing DBC, an invalid DBC, a missing log and a file that is no log', async () => {
    const bad = join(tmp, 'bad.dbc');
    writeFileSync(bad, 'BO_ 1 A: 8 X\n SG_ S : 0|99@1+ (1,0) [0|0] "" X\n');
    const notLog = join(tmp, 'notes.txt');
    writeFileSync(notLog, 'hello\nworld\n');
    const emit = () => {};
    await expect(runCanDecode(join(tmp, 'none.dbc'), LOG, { emit })).rejects.toThrow(
      /cannot read DBC .*ENOENT/,
    );
    await expect(runCanDecode(bad, LOG, { emit })).rejects.toThrow(
      /invalid DBC .*line 2.*bad-signal/,
    );
    await expect(runCanDecode(DBC, join(tmp, 'none.log'), { emit })).rejects.toThrow(
      /cannot read log .*ENOENT/,
    );
    await expect(runCanDecode(DBC, notLog, { emit })).rejects.toBeInstanceOf(CanCommandError);
  });
});

describe('enginechain can decode (the real CLI)', () => {
  it('prints decoded frames and a summary, exit 0', async () => {
    const log = join(tmp, 'short.log');
    writeFileSync(
      log,
      '(46408.584954) can0 0B4#000000001D0B7A5E\n(46408.6) can0 351#\nnot a line\n',
    );
    const r = await runCli(['can', 'decode', '--dbc', DBC, log, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({
      id: 180,
      message: 'SPEED',
      signals: { SPEED: 29.38 },
    });
    expect(r.stderr).toContain('1 frames decoded, 1 not in the DBC');
    expect(r.stderr).toContain('1 bad lines (first at line 3');
  });

  it('exits 1 with a message on a missing DBC', async () => {
    const r = await runCli(['can', 'decode', '--dbc', join(tmp, 'missing.dbc'), LOG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read DBC');
  });
});
