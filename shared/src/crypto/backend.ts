/**
 * The few crypto primitives the offline verifier stands on, Node implementation (node:crypto,
 * i.e. OpenSSL: ECDSA verify is about ten times faster than pure JS, and the ingest verifies
 * thousands of batches per second through here).
 *
 * The dashboard bundle swaps this file for `backend.browser.ts` at bundle time (the esbuild
 * plugin in ingest/src/dashboard/build), so `verifyEvidence` is one code path with two
 * backends. Both files export the same names with the same types; backend.test.ts checks that
 * and runs both against the same published vectors. Keep this surface small: every primitive
 * added here must be written twice.
 *
 * Keys are handed around as node:crypto `KeyObject`s (parsed once, reused per device). The
 * browser backend returns objects with the subset of KeyObject that shared code reads: `type`,
 * `asymmetricKeyDetails.namedCurve` and `export({ format: 'jwk' })`.
 */
import {
  createPrivateKey,
  createPublicKey,
  hash,
  randomBytes as nodeRandomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/** Which implementation this is, for logs and tests. */
export const CRYPTO_BACKEND: 'node' | 'browser' = 'node';

/** Buffer at the Node edge, a plain Uint8Array for shared code (deep-equal and browsers agree). */
function plain(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The digest comes back as a 'binary' (latin1) string, one char per byte, copied into a
 * 32-byte array: a Buffer result is a new array outside the V8 heap, which costs five times
 * the hash of a log leaf itself; 32 bytes are allocated on the heap.
 */
export function sha256(data: Uint8Array): Uint8Array {
  const digest = hash('sha256', data, 'binary');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = digest.charCodeAt(i);
  return out;
}

/** `length` bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return plain(nodeRandomBytes(length));
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * A public key handle for an uncompressed SEC1 secp256k1 point (0x04 ‖ x ‖ y). The caller has
 * already checked that the point is on the curve.
 */
export function secp256k1PublicKeyFromPoint(uncompressed: Uint8Array): KeyObject {
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'secp256k1',
      x: b64url(uncompressed.subarray(1, 33)),
      y: b64url(uncompressed.subarray(33, 65)),
    },
    format: 'jwk',
  });
}

/** Whether `key` is a public EC key handle on `namedCurve` (node:crypto curve names). */
export function isEcPublicKey(key: unknown, namedCurve: string): key is KeyObject {
  const k = key as KeyObject | null | undefined;
  return (
    typeof k === 'object' &&
    k !== null &&
    k.type === 'public' &&
    k.asymmetricKeyDetails?.namedCurve === namedCurve
  );
}

/**
 * ECDSA with SHA-256 over `message`, signature as 64 bytes r‖s (IEEE P1363). Accepts either
 * half of s: the low-S rule is the caller's (COSE ES256K applies it, ES256 does not).
 */
export function verifyEcdsaSha256(
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

// DER prefixes of RFC 8410 PKCS#8 and SPKI structures for a raw 32-byte Ed25519 key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_KEY_BYTES = 32;

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
}

export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(ed25519PrivateKey(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - ED25519_KEY_BYTES));
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey));
}

/** RFC 8032 verification; a malformed signature is simply not valid. */
export function ed25519Verify(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}
