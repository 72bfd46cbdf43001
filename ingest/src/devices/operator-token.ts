import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSecretFile, writeFileAtomic } from '@enginechain/shared';

/** Where the operator token and its hash live in a node's data folder. */
export const OPERATOR_TOKEN_FILE = 'operator.token';
export const OPERATOR_TOKEN_HASH_FILE = 'operator.token.sha256';

/** `ecop_` + 43 base64url characters (256 random bits); the prefix lets secret scanners find it. */
const TOKEN = /^ecop_[A-Za-z0-9_-]{43}$/;

/** Checks a presented operator token against the stored hash. */
export interface OperatorTokenVerifier {
  verify(presented: string): boolean;
}

export interface OperatorTokenSetup {
  readonly verifier: OperatorTokenVerifier;
  /** `<data>/operator.token`, written (0600) when this call created the token. */
  readonly tokenFile: string;
  /** True when the token was made now, at the node's first start. */
  readonly created: boolean;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function isOperatorTokenFormat(token: string): boolean {
  return TOKEN.test(token);
}

/**
 * A verifier over the SHA-256 of the token. The comparison is of two 32-byte hashes with
 * timingSafeEqual, so neither the token's length nor its content shows in the timing.
 */
export function operatorTokenVerifier(tokenHash: Uint8Array): OperatorTokenVerifier {
  if (!(tokenHash instanceof Uint8Array) || tokenHash.length !== 32)
    throw new TypeError('tokenHash: expected 32 bytes');
  const expected = Buffer.from(tokenHash);
  return {
    verify(presented) {
      if (typeof presented !== 'string') return false;
      return timingSafeEqual(sha256(presented), expected);
    },
  };
}

/**
 * Makes the operator token on a node's first start: the token goes to `<data>/operator.token`
 * (0600) for the operator to take away, and the node keeps only its SHA-256 in
 * `<data>/operator.token.sha256`, so the token file may be moved off the machine and a copy of
 * the data folder without it grants nothing. Later starts read the hash only. To replace the
 * token, delete both files and restart.
 */
export async function loadOrCreateOperatorToken(dataDir: string): Promise<OperatorTokenSetup> {
  const tokenFile = join(dataDir, OPERATOR_TOKEN_FILE);
  const hashFile = join(dataDir, OPERATOR_TOKEN_HASH_FILE);
  let hashHex: string | undefined;
  try {
    hashHex = (await readFile(hashFile, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (hashHex !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(hashHex))
      throw new Error(`${hashFile}: expected the hex SHA-256 of the operator token`);
    return {
      verifier: operatorTokenVerifier(new Uint8Array(Buffer.from(hashHex, 'hex'))),
      tokenFile,
      created: false,
    };
  }
  // A token file without its hash: a crash between the two writes below. Keep that token.
  let token: string | undefined;
  try {
    token = (await readSecretFile(tokenFile)).trim();
    if (!isOperatorTokenFormat(token)) throw new Error(`${tokenFile}: not an operator token`);
  } catch (err) {
    if ((err as { code?: string }).code !== 'not-found') throw err;
  }
  const created = token === undefined;
  token ??= `ecop_${randomBytes(32).toString('base64url')}`;
  if (created) await writeFileAtomic(tokenFile, `${token}\n`, 0o600);
  const hash = sha256(token);
  await writeFileAtomic(hashFile, `${hash.toString('hex')}\n`, 0o600);
  return { verifier: operatorTokenVerifier(new Uint8Array(hash)), tokenFile, created };
}

/**
 * Reads an operator token file on the operator's side (`enginechain device revoke`), refusing
 * one that group or others can read, as ssh does with keys.
 */
export async function readOperatorTokenFile(path: string): Promise<string> {
  const token = (await readSecretFile(path)).trim();
  if (!isOperatorTokenFormat(token)) throw new Error(`${path}: not an operator token (ecop_…)`);
  return token;
}
