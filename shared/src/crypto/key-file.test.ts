import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateDeviceKey } from './device-key.js';
import { KeyFileError } from './key-error.js';
import {
  loadDeviceKey,
  loadPublicKeyFile,
  privateKeyFromPem,
  publicKeyFromPem,
  writeDeviceKey,
} from './key-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ec-keyfile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KeyFileError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('device key files', () => {
  it('writes device.key 0600 and device.pub, and loads the same key back', async () => {
    const key = generateDeviceKey();
    const out = join(dir, 'keys');
    const paths = await writeDeviceKey(out, key);
    expect((await stat(paths.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(paths.publicKeyPath)).mode & 0o777).toBe(0o644);
    expect((await stat(out)).mode & 0o777).toBe(0o700);
    const loaded = await loadDeviceKey(out);
    expect(loaded).toEqual(key);
    expect(await loadPublicKeyFile(paths.publicKeyPath)).toEqual(key.publicKey);
    const pem = await readFile(paths.privateKeyPath, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('writes a key openssl reads as secp256k1 (when openssl is installed)', async (ctx) => {
    let version = '';
    try {
      version = execFileSync('openssl', ['version'], { encoding: 'utf8' });
    } catch {
      ctx.skip('openssl is not installed here');
    }
    expect(version).toMatch(/SSL/);
    const key = generateDeviceKey();
    const paths = await writeDeviceKey(dir, key);
    const text = execFileSync('openssl', ['pkey', '-in', paths.privateKeyPath, '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(text).toMatch(/secp256k1/);
    const pubPem = execFileSync('openssl', ['pkey', '-in', paths.privateKeyPath, '-pubout'], {
      encoding: 'utf8',
    });
    expect(publicKeyFromPem(pubPem)).toEqual(key.publicKey);
  });

  it('refuses to overwrite unless force', async () => {
    const first = generateDeviceKey();
    await writeDeviceKey(dir, first);
    expect(await codeOf(writeDeviceKey(dir, generateDeviceKey()))).toBe('exists');
    expect((await loadDeviceKey(dir)).deviceId).toBe(first.deviceId);
    const second = generateDeviceKey();
    await writeDeviceKey(dir, second, { force: true });
    expect((await loadDeviceKey(dir)).deviceId).toBe(second.deviceId);
  });

  it.each([0o640, 0o604, 0o644, 0o660, 0o666, 0o700 | 0o007])(
    'refuses a private key file with mode %o (insecure-permissions)',
    async (mode) => {
      const paths = await writeDeviceKey(dir, generateDeviceKey());
      await chmod(paths.privateKeyPath, mode);
      const err = await loadDeviceKey(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyFileError);
      expect((err as KeyFileError).code).toBe('insecure-permissions');
      expect((err as KeyFileError).path).toBe(paths.privateKeyPath);
      expect((err as KeyFileError).message).toMatch(/chmod 600/);
    },
  );

  it('accepts 0400 (read-only for the owner)', async () => {
    const paths = await writeDeviceKey(dir, generateDeviceKey());
    await chmod(paths.privateKeyPath, 0o400);
    await expect(loadDeviceKey(dir)).resolves.toBeDefined();
  });

  it('reports a missing key, a bad PEM, a foreign curve and a mismatched public key', async () => {
    expect(await codeOf(loadDeviceKey(dir))).toBe('not-found');
    const paths = await writeDeviceKey(dir, generateDeviceKey());
    await writeFile(paths.privateKeyPath, 'not a key\n', { mode: 0o600 });
    expect(await codeOf(loadDeviceKey(dir))).toBe('bad-format');
    const { generateKeyPairSync } = await import('node:crypto');
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p256Pem = p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(paths.privateKeyPath, p256Pem);
    expect(await codeOf(loadDeviceKey(dir))).toBe('bad-format');
    expect(() => privateKeyFromPem(p256Pem)).toThrow(KeyFileError);
    await writeDeviceKey(dir, generateDeviceKey(), { force: true });
    const other = join(dir, 'other');
    const otherPaths = await writeDeviceKey(other, generateDeviceKey());
    await writeFile(paths.publicKeyPath, await readFile(otherPaths.publicKeyPath));
    expect(await codeOf(loadDeviceKey(dir))).toBe('mismatch');
  });
});
