import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deviceIdFromPublicKey } from '../crypto/device-key.js';
import { loadDeviceKey } from '../crypto/key-file.js';
import { runKeygen } from './keygen.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ec-keygen-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('keygen logic', () => {
  it('writes a loadable key whose id matches its public key, and refuses to overwrite', async () => {
    const out = join(dir, 'k');
    const r = await runKeygen(out);
    expect(r.deviceId).toBe(deviceIdFromPublicKey(new Uint8Array(Buffer.from(r.publicKey, 'hex'))));
    expect((await loadDeviceKey(out)).deviceId).toBe(r.deviceId);
    await expect(runKeygen(out)).rejects.toMatchObject({ code: 'exists' });
    const again = await runKeygen(out, { force: true });
    expect(again.deviceId).not.toBe(r.deviceId);
  });
});

type RunCli = (
  args: readonly string[],
) => Promise<{ code: number | null; stdout: string; stderr: string }>;
// test/support lies outside this package's rootDir, so it is loaded at run time, not compiled in.
const runCliModule = new URL('../../../test/support/run-cli.ts', import.meta.url).href;

// Spawns the real CLI (it boots once every package's registered command files exist).
describe('enginechain keygen (CLI)', () => {
  let runCli: RunCli;
  beforeAll(async () => {
    ({ runCli } = (await import(runCliModule)) as { runCli: RunCli });
  });

  it('prints the device id and public key, writes 0600, refuses to overwrite without --force', async () => {
    const out = join(dir, 'keys');
    const first = await runCli(['keygen', '--out', out, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const r = JSON.parse(first.stdout) as {
      deviceId: string;
      publicKey: string;
      privateKeyPath: string;
    };
    expect(r.deviceId).toMatch(/^[0-9a-f]{32}$/);
    expect(r.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect((await stat(r.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await loadDeviceKey(out)).deviceId).toBe(r.deviceId);

    const second = await runCli(['keygen', '--out', out]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already exists/);
    expect((await loadDeviceKey(out)).deviceId).toBe(r.deviceId);

    const forced = await runCli(['keygen', '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^device id {4}[0-9a-f]{32}$/m);
    expect((await loadDeviceKey(out)).deviceId).not.toBe(r.deviceId);
  });
});
