/**
 * The verifier's crypto primitives for browsers: the same exports as `backend.ts`, written on
 * @noble/secp256k1, @noble/ed25519 and @noble/hashes (audited, pure JS, no Node). The dashboard
 * bundle puts this file in place of backend.ts at bundle time; Node code never imports it
 * except backend.test.ts, which holds both to the same vectors.
 *
 * Semantics match OpenSSL's where the verifier can tell: ECDSA takes r‖s with either half of s
 * (the caller applies low-S), Ed25519 is RFC 8032 strict (`zip215: false`: canonical encodings
 * only, S < L).
 */
import type { KeyObject, JsonWebKey } from 'node:crypto';
import * as ed from '@noble/ed25519';
import * as secp from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';

// noble v3 ships only async hashing; the verifier is synchronous, so wire the sync hashes once.
secp.hashes.sha256 = nobleSha256;
secp.hashes.hmacSha256 = (key, msg) => hmac(nobleSha256, key, msg);
ed.hashes.sha512 = sha512;

export const CRYPTO_BACKEND: 'node' | 'browser' = 'browser';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 64 KiB per call.
  for (let at = 0; at < length; at += 65_536)
    globalThis.crypto.getRandomValues(out.subarray(at, at + 65_536));
  return out;
}

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

type KeyKind = 'secp256k1' | 'ed25519-public' | 'ed25519-private';

/**
 * The part of node:crypto's KeyObject that shared code reads, over raw key bytes. Only JWK
 * export of EC public keys is supported (signed-batch derives the device id from it).
 */
class BrowserKey {
  readonly type: 'public' | 'private';
  readonly asymmetricKeyType: 'ec' | 'ed25519';
  readonly asymmetricKeyDetails: { readonly namedCurve?: string };
  constructor(
    readonly kind: KeyKind,
    /** SEC1 uncompressed point, raw Ed25519 public key, or Ed25519 seed. */
    readonly raw: Uint8Array,
  ) {
    this.type = kind === 'ed25519-private' ? 'private' : 'public';
    this.asymmetricKeyType = kind === 'secp256k1' ? 'ec' : 'ed25519';
    this.asymmetricKeyDetails = kind === 'secp256k1' ? { namedCurve: 'secp256k1' } : {};
  }
  export(options: { format: string }): JsonWebKey {
    if (this.kind !== 'secp256k1' || options?.format !== 'jwk')
      throw new TypeError(`export: only JWK export of secp256k1 public keys in the browser`);
    return {
      kty: 'EC',
      crv: 'secp256k1',
      x: base64url(this.raw.subarray(1, 33)),
      y: base64url(this.raw.subarray(33, 65)),
    };
  }
}

// The one cast in this file: callers hold keys as KeyObject (the Node backend's type) and only
// ever pass them back here or read the members BrowserKey has.
const asKeyObject = (k: BrowserKey): KeyObject => k as unknown as KeyObject;

function own(key: KeyObject, kind: KeyKind): BrowserKey {
  const k = key as unknown;
  if (!(k instanceof BrowserKey) || k.kind !== kind)
    throw new TypeError(`key: expected a ${kind} key made by this backend`);
  return k;
}

export function secp256k1PublicKeyFromPoint(uncompressed: Uint8Array): KeyObject {
  return asKeyObject(new BrowserKey('secp256k1', uncompressed.slice()));
}

export function isEcPublicKey(key: unknown, namedCurve: string): key is KeyObject {
  return (
    key instanceof BrowserKey &&
    key.type === 'public' &&
    key.asymmetricKeyDetails.namedCurve === namedCurve
  );
}

export function verifyEcdsaSha256(
  key: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = own(key, 'secp256k1');
  try {
    return secp.verify(signature, message, k.raw, {
      prehash: true,
      lowS: false,
      format: 'compact',
    });
  } catch {
    return false;
  }
}

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return asKeyObject(new BrowserKey('ed25519-private', seed.slice()));
}

export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  // Like node:crypto, a key that is not a point is not refused here: it verifies nothing.
  return asKeyObject(new BrowserKey('ed25519-public', publicKey.slice()));
}

export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return ed.sign(message, own(privateKey, 'ed25519-private').raw);
}

export function ed25519Verify(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const k = own(publicKey, 'ed25519-public');
  try {
    return ed.verify(signature, message, k.raw, { zip215: false });
  } catch {
    return false;
  }
}
