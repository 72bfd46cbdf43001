/**
 * ES256K primitives (ECDSA over secp256k1 with SHA-256, RFC 8812). Signing uses
 * @noble/secp256k1 (RFC 6979 deterministic k, low-S, no OpenSSL on the device path);
 * verification goes through the crypto backend (node:crypto in Node, about ten times faster;
 * noble in the browser), with low-S enforced here because OpenSSL accepts both halves.
 */
import type { KeyObject } from 'node:crypto';
import * as secp from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import {
  isEcPublicKey,
  secp256k1PublicKeyFromPoint,
  sha256 as backendSha256,
  verifyEcdsaSha256,
} from './backend.js';
import { KeyFileError } from './key-error.js';

// noble v3 ships only async hashing; sync sign needs these two wired once.
secp.hashes.sha256 = nobleSha256;
secp.hashes.hmacSha256 = (key, msg) => hmac(nobleSha256, key, msg);

/** Order n of the secp256k1 group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;

export function sha256(data: Uint8Array): Uint8Array {
  return backendSha256(data);
}

function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + bytesToHex(b));
}

function bigIntTo32Bytes(v: bigint): Uint8Array {
  return hexToBytes(v.toString(16).padStart(64, '0'));
}

function checkSignatureArg(signature: Uint8Array): void {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new TypeError('signature: expected 64 bytes r‖s');
  }
}

/** True when s ≤ n/2, the only half we accept (BIP 62 style), so a signature has one form. */
export function isLowS(signature: Uint8Array): boolean {
  checkSignatureArg(signature);
  return bytesToBigInt(signature.subarray(32)) <= HALF_N;
}

/** Returns r‖(n − s) when s is high, else a copy: both verify; only low-S is accepted by us. */
export function normalizeLowS(signature: Uint8Array): Uint8Array {
  checkSignatureArg(signature);
  const s = bytesToBigInt(signature.subarray(32));
  const out = signature.slice();
  if (s > HALF_N) out.set(bigIntTo32Bytes(SECP256K1_N - s), 32);
  return out;
}

export function assertPrivateKey(privateKey: Uint8Array, field = 'privateKey'): void {
  if (
    !(privateKey instanceof Uint8Array) ||
    privateKey.length !== 32 ||
    !secp.utils.isValidSecretKey(privateKey)
  ) {
    throw new KeyFileError('bad-key', `${field}: expected a 32-byte secp256k1 scalar in 1..n-1`);
  }
}

/**
 * ES256K signature of `message` (SHA-256 is applied here): 64 bytes r‖s, low-S, deterministic
 * (RFC 6979).
 */
export function signEs256k(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) throw new TypeError('message: expected a Uint8Array');
  assertPrivateKey(privateKey);
  // The digest comes from the backend (node:crypto in Node): noble's SHA-256 in JS, run by
  // the agent's interpreter-only Node over a 60 KB batch, made megabytes of garbage per batch.
  // Signing the digest is the same RFC 6979 signature.
  return secp.sign(backendSha256(message), privateKey, {
    prehash: false,
    lowS: true,
    format: 'compact',
  });
}

/** 33-byte compressed SEC1 form of a compressed or uncompressed secp256k1 public key. */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return pointOf(publicKey).toBytes(true);
}

function pointOf(publicKey: Uint8Array): secp.Point {
  if (!(publicKey instanceof Uint8Array) || (publicKey.length !== 33 && publicKey.length !== 65)) {
    throw new KeyFileError(
      'bad-key',
      'publicKey: expected 33 (compressed) or 65 (uncompressed) SEC1 bytes',
    );
  }
  try {
    return secp.Point.fromBytes(publicKey);
  } catch (err) {
    throw new KeyFileError('bad-key', 'publicKey: not a point on secp256k1', undefined, {
      cause: err,
    });
  }
}

/**
 * A node:crypto KeyObject for a secp256k1 public key (in the browser, the backend's stand-in).
 * Build it once per device and pass it to `verifyEs256k`/`verifyBatch`: parsing the point
 * costs about as much as a fifth of a verify.
 */
export function secp256k1PublicKeyObject(publicKey: Uint8Array): KeyObject {
  return secp256k1PublicKeyFromPoint(pointOf(publicKey).toBytes(false));
}

/** A public key given as SEC1 bytes or as a KeyObject made by `secp256k1PublicKeyObject`. */
export type Secp256k1PublicKey = Uint8Array | KeyObject;

export function toSecp256k1KeyObject(publicKey: Secp256k1PublicKey): KeyObject {
  if (publicKey instanceof Uint8Array) return secp256k1PublicKeyObject(publicKey);
  if (!isEcPublicKey(publicKey, 'secp256k1')) {
    throw new KeyFileError(
      'bad-key',
      'publicKey: expected SEC1 bytes or a secp256k1 public KeyObject',
    );
  }
  return publicKey;
}

/**
 * Verifies an ES256K signature (64 bytes r‖s) over `message` with the backend. Returns false
 * for a wrong or high-S signature; throws only when the key argument is not a key.
 */
export function verifyEs256k(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Secp256k1PublicKey,
): boolean {
  const key = toSecp256k1KeyObject(publicKey);
  if (!(message instanceof Uint8Array)) throw new TypeError('message: expected a Uint8Array');
  if (!(signature instanceof Uint8Array) || signature.length !== 64 || !isLowS(signature))
    return false;
  return verifyEcdsaSha256(key, message, signature);
}
