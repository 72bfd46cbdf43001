/**
 * `npm start` as a user runs it: the built CLI (plain node, dist/, no tsx), in a terminal. The
 * other end-to-end tests run from sources; this one catches what only the bundle gets wrong
 * (paths to data files, dependencies left out of a package). In a terminal the demo keeps the
 * node and its dashboard up after the summary until Ctrl-C; `script` gives it a real pty and
 * the ^C goes through the pty's line discipline, as from a keyboard.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/run-cli.js';

const built = ['shared', 'firmware-bridge', 'agent', 'ingest', 'hardware'].every((p) =>
  existsSync(join(repoRoot, p, 'dist', 'cli.js')),
);

describe('npm start from the build, in a terminal', () => {
  // Skipped on a checkout nobody has built (`npm run build`): the test is about dist/, and the
  // others cover the same paths from sources. CI builds (npm ci runs prepare), so there it
  // always runs, and a missing build fails instead of passing by being skipped.
  it.runIf(built || process.env.CI === 'true')(
    'drives, verifies, prints logins and the dashboard URL, serves it until Ctrl-C',
    async () => {
      const child = spawn(
        'script',
        // `exec`: `script` runs the command through $SHELL -c, and a shell left waiting (dash, or
        // SHELL unset) dies of the ^C itself, so its exit status would not be the CLI's.
        ['-qfec', 'exec node bin/enginechain.js demo --crash-at 45 --speedup 10', '/dev/null'],
        {
          cwd: repoRoot,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: { ...process.env, SHELL: '/bin/sh' },
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no dashboard line:\n${out}`)), 120_000);
        child.stdout.on('data', () => {
          const m = /dashboard\s+(http:\/\/\S+?)\/\s+\(/.exec(out);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        void exited.then(() => reject(new Error(`the demo exited early:\n${out}`)));
      });
      expect(out).toMatch(/evidence\s+\S+\.cbor VERIFIED/);
      const owner = /logins\s+owner (\S+) \/ (\S+)/.exec(out);
      expect(owner).not.toBeNull();

      const page = await fetch(`${url}/`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect((await fetch(`${url}/app.js`)).status).toBe(200);
      const login = await fetch(`${url}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: owner?.[1], password: owner?.[2] }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const vehicles = (await (
        await fetch(`${url}/v1/vehicles`, { headers: { cookie } })
      ).json()) as {
        vehicles: { vin: string; relation: string }[];
      };
      expect(vehicles.vehicles).toEqual([expect.objectContaining({ relation: 'owner' })]);

      child.stdin.write('\x03');
      expect(await exited).toBe(0);
      await expect(fetch(`${url}/v1/status`)).rejects.toThrow();
    },
    180_000,
  );
});
