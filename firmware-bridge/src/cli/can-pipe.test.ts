/**
 * `enginechain can decode … | head`: the real CLI with a reader that leaves after the first
 * lines stops quietly (exit 0, its summary, no EPIPE stack trace) and stops early.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dir = fileURLToPath(new URL('../../vectors/can/', import.meta.url));
const DBC = `${dir}toyota_new_mc_pt_generated.dbc`;
const LOG = `${dir}comma2k19_rav4_ex1_seg40_bus0.log`;

describe('enginechain can decode into a pipe closed early', () => {
  it('ends quietly with exit 0 when the reader goes away', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', `${repoRoot}bin/enginechain.js`, 'can', 'decode', '--dbc', DBC, LOG, '--json'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    ); // prettier-ignore
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let first = '';
    child.stdout.setEncoding('utf8').once('data', (d: string) => {
      first = d;
      child.stdout.destroy(); // what `head` does once it has its lines
    });
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    expect(JSON.parse(first.split('\n')[0]!)).toMatchObject({ message: expect.any(String) });
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
    const decoded = Number(/(\d+) frames decoded/.exec(stderr)?.[1]);
    expect(decoded).toBeLessThan(38_983);
  }, 30_000);
});
