/**
 * Ed25519 for signed notes, through the crypto backend (node:crypto in Node, @noble/ed25519 in
 * the dashboard bundle), so checkpoint and evidence verification run in a browser unchanged.
 */
import type { KeyObject } from 'node:crypto';
import {
  ed25519PrivateKey as backendPrivateKey,
  ed25519PublicKey as backendPublicKey,
  ed25519PublicFromSeed as backendPublicFromSeed,
  ed25519Sign as backendSign,
  ed25519Verify as backendVerify,
  randomBytes,
} from '../crypto/backend.js';

export const ED25519_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

function checkKeyBytes(field: string, key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== ED25519_KEY_SIZE)
    throw new TypeError(`${field}: expected ${ED25519_KEY_SIZE} bytes`);
  return key;
}

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return backendPrivateKey(checkKeyBytes('seed', seed));
}

export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  return backendPublicKey(checkKeyBytes('publicKey', publicKey));
}

export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  return backendPublicFromSeed(checkKeyBytes('seed', seed));
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return backendSign(privateKey, message);
}

/** Verdict, never an exception: a wrong-length or garbage signature is simply not valid. */
export function ed25519Verify(
  publicKey: KeyObject,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
  return backendVerify(publicKey, message, signature);
}

export function ed25519RandomSeed(): Uint8Array {
  return randomBytes(ED25519_KEY_SIZE);
}
