/**
 * Device key files: `device.key` (PKCS#8 PEM, mode 0600, readable by `openssl pkey`) and
 * `device.pub` (SPKI PEM) beside it. Node I/O lives here only; keys in memory are Uint8Array.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { deviceKeyFromPrivateKey, type DeviceKey } from './device-key.js';
import { KeyFileError } from './key-error.js';
import { compressPublicKey, secp256k1PublicKeyObject } from './secp256k1.js';

export const PRIVATE_KEY_FILE = 'device.key';
export const PUBLIC_KEY_FILE = 'device.pub';

export interface DeviceKeyPaths {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
}

export function deviceKeyPaths(dir: string): DeviceKeyPaths {
  return { privateKeyPath: join(dir, PRIVATE_KEY_FILE), publicKeyPath: join(dir, PUBLIC_KEY_FILE) };
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** PKCS#8 PEM of a device private key. */
export function privateKeyToPem(key: DeviceKey): string {
  const uncompressed = secp256k1PublicKeyObject(key.publicKey).export({ format: 'jwk' });
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'secp256k1',
      d: b64url(key.privateKey),
      x: uncompressed.x,
      y: uncompressed.y,
    },
    format: 'jwk',
  })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** SPKI PEM of a secp256k1 public key (SEC1 bytes in). */
export function publicKeyToPem(publicKey: Uint8Array): string {
  return secp256k1PublicKeyObject(publicKey).export({ type: 'spki', format: 'pem' }).toString();
}

function curveOf(key: KeyObject): string | undefined {
  return key.asymmetricKeyDetails?.namedCurve;
}

/** Parses a PKCS#8 (or SEC1 "EC PRIVATE KEY") PEM holding a secp256k1 key. */
export function privateKeyFromPem(pem: string, path?: string): DeviceKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new KeyFileError('bad-format', `${path ?? 'private key'}: not a PEM private key`, path, {
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== 'ec' || curveOf(key) !== 'secp256k1') {
    throw new KeyFileError('bad-format', `${path ?? 'private key'}: not a secp256k1 EC key`, path);
  }
  const d = key.export({ format: 'jwk' }).d;
  if (d === undefined)
    throw new KeyFileError('bad-format', `${path ?? 'private key'}: no private scalar`, path);
  return deviceKeyFromPrivateKey(new Uint8Array(Buffer.from(d, 'base64url')));
}

/** Parses an SPKI PEM holding a secp256k1 public key; returns the 33-byte compressed form. */
export function publicKeyFromPem(pem: string, path?: string): Uint8Array {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new KeyFileError('bad-format', `${path ?? 'public key'}: not a PEM public key`, path, {
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== 'ec' || curveOf(key) !== 'secp256k1') {
    throw new KeyFileError('bad-format', `${path ?? 'public key'}: not a secp256k1 EC key`, path);
  }
  const { x, y } = key.export({ format: 'jwk' });
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(Buffer.from(x ?? '', 'base64url'), 1);
  raw.set(Buffer.from(y ?? '', 'base64url'), 33);
  return compressPublicKey(raw);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Writes `text` to `path` with `mode` via a temporary file and rename, so a crash leaves no half key. */
/** Writes a file atomically (temp file, fsync, rename) with `mode`; for keys and other secrets. */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.chmod(mode); // the umask may have narrowed or (for the .pub) kept bits
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}

/**
 * Writes `device.key` (0600) and `device.pub` (0644) into `dir`, creating it (0700) if needed.
 * Refuses with `exists` when either file is already there unless `force`.
 */
export async function writeDeviceKey(
  dir: string,
  key: DeviceKey,
  options: { force?: boolean } = {},
): Promise<DeviceKeyPaths> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir: expected a directory path');
  const paths = deviceKeyPaths(dir);
  const privatePem = privateKeyToPem(key);
  const publicPem = publicKeyToPem(key.publicKey);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!options.force) {
    for (const p of [paths.privateKeyPath, paths.publicKeyPath]) {
      if (await exists(p))
        throw new KeyFileError(
          'exists',
          `${p} already exists; refusing to overwrite a device key`,
          p,
        );
    }
  }
  await writeFileAtomic(paths.privateKeyPath, privatePem, 0o600);
  await writeFileAtomic(paths.publicKeyPath, publicPem, 0o644);
  return paths;
}

/**
 * Loads the device key from `dir`. The private key file must not be accessible to group or
 * others (`insecure-permissions`): a key others could read cannot vouch for the data it signs.
 * When `device.pub` is present it must match (`mismatch`).
 */
export async function loadDeviceKey(dir: string): Promise<DeviceKey> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir: expected a directory path');
  const { privateKeyPath, publicKeyPath } = deviceKeyPaths(dir);
  let pem: string;
  try {
    pem = await readSecretFile(privateKeyPath);
  } catch (err) {
    if (err instanceof KeyFileError && err.code === 'not-found') {
      throw new KeyFileError(
        'not-found',
        `${privateKeyPath}: no device key (run enginechain keygen --out ${dir})`,
        privateKeyPath,
      );
    }
    throw err;
  }
  const key = privateKeyFromPem(pem, privateKeyPath);
  if (await exists(publicKeyPath)) {
    const pub = publicKeyFromPem(await readFile(publicKeyPath, 'utf8'), publicKeyPath);
    if (Buffer.compare(pub, key.publicKey) !== 0) {
      throw new KeyFileError(
        'mismatch',
        `${publicKeyPath} does not belong to ${privateKeyPath}`,
        publicKeyPath,
      );
    }
  }
  return key;
}

/**
 * Reads a private key file, refusing one that group or others can access
 * (`insecure-permissions`): a key others could read cannot vouch for what it signs.
 */
export async function readSecretFile(path: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KeyFileError('not-found', `${path}: no such file`, path);
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(
      'insecure-permissions',
      `${path}: mode ${(mode & 0o777).toString(8).padStart(4, '0')} lets group or others access the private key; chmod 600 it`,
      path,
    );
  }
  return readFile(path, 'utf8');
}

/** Loads a public key PEM file (e.g. a device's `device.pub` sent at enrolment). */
export async function loadPublicKeyFile(path: string): Promise<Uint8Array> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KeyFileError('not-found', `${path}: no such file`, path);
    throw err;
  }
  return publicKeyFromPem(pem, path);
}
