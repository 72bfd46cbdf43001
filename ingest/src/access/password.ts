/**
 * Password hashing with scrypt (RFC 7914) from node:crypto. The stored form names its own
 * parameters (`scrypt$N$r$p$salt$hash`), so the cost can be raised later without breaking
 * existing accounts; verification is constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** 2^15 × 8 × 128 B = 32 MiB and ~60 ms here: slow for a guesser, bearable for a login. */
export const SCRYPT_DEFAULTS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 1_024;

function derive(password: string, salt: Buffer, o: { N: number; r: number; p: number }) {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Throws a TypeError naming what is wrong with a new password. */
export function checkNewPassword(password: string): void {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
    throw new TypeError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new TypeError(`password: at most ${MAX_PASSWORD_LENGTH} characters`);
}

export async function hashPassword(
  password: string,
  params: { N: number; r: number; p: number } = SCRYPT_DEFAULTS,
): Promise<string> {
  checkNewPassword(password);
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return [
    'scrypt',
    params.N,
    params.r,
    params.p,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((x) => Number.isSafeInteger(x) && x > 0)) return false;
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return false;
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  const key = await derive(password, Buffer.from(parts[4] ?? '', 'base64'), { N, r, p });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
