/**
 * C2SP signed-note keys, Ed25519 only (algorithm byte 0x01):
 *   verifier key  name+keyhash+base64(0x01 ‖ 32-byte public key)
 *   signer key    PRIVATE+KEY+name+keyhash+base64(0x01 ‖ 32-byte seed)
 * keyhash is 8 hex digits: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
 * Checks follow golang.org/x/mod/sumdb/note NewVerifier / NewSigner, in the same order.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  ED25519_KEY_SIZE,
  ed25519PrivateKey,
  ed25519PublicFromSeed,
  ed25519PublicKey,
  ed25519RandomSeed,
  ed25519Sign,
  ed25519Verify,
} from './ed25519.js';
import { CheckpointError } from './errors.js';
import { decodeBase64, encodeBase64, isValidKeyName, utf8 } from './text.js';

export const ED25519_ALGORITHM = 0x01;
const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+';

/** Checks signatures by one key. Misuse throws; a bad signature is `false`. */
export interface NoteVerifier {
  readonly name: string;
  /** The 32-bit key hash that signature lines carry to say which key signed. */
  readonly keyHash: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyHash: number;
  sign(message: Uint8Array): Uint8Array;
}

export interface Ed25519NoteVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  /** The verifier key string, as published for clients. */
  readonly verifierKey: string;
}

export interface Ed25519NoteSigner extends NoteSigner {
  readonly publicKey: Uint8Array;
  /** The matching verifier key string, safe to publish. */
  readonly verifierKey: string;
}

/** First 4 bytes, big-endian, of SHA-256(name ‖ "\n" ‖ algorithm-prefixed key). */
export function noteKeyHash(name: string, algorithmAndKey: Uint8Array): number {
  if (!isValidKeyName(name))
    throw new CheckpointError('bad-name', `name: ${JSON.stringify(name)} is not a valid key name`);
  const nameBytes = utf8.encode(`${name}\n`);
  const input = new Uint8Array(nameBytes.length + algorithmAndKey.length);
  input.set(nameBytes);
  input.set(algorithmAndKey, nameBytes.length);
  const digest = sha256(input);
  return new DataView(digest.buffer, digest.byteOffset).getUint32(0);
}

/** Parses and checks a verifier key string. Throws CheckpointError naming what is wrong. */
export function parseVerifierKey(verifierKey: string): Ed25519NoteVerifier {
  if (typeof verifierKey !== 'string')
    throw new CheckpointError('bad-input', 'verifierKey: expected a string');
  // The base64 key may itself hold '+', so cut at the first two only (sumdb/note's chop).
  const parts = cutTwice(verifierKey);
  if (parts === undefined)
    throw new CheckpointError('malformed-key', 'verifierKey: expected name+keyhash+base64');
  const [name, hashHex, keyBase64] = parts;
  const { keyHash, publicKey } = checkKeyParts(
    'verifierKey',
    name,
    hashHex,
    keyBase64,
    (key) => key,
  );
  return makeVerifier(name, keyHash, publicKey, verifierKey);
}

/** Parses and checks a signer key string (it holds the private seed: keep it secret). */
export function parseSignerKey(signerKey: string): Ed25519NoteSigner {
  if (typeof signerKey !== 'string')
    throw new CheckpointError('bad-input', 'signerKey: expected a string');
  const parts = signerKey.startsWith(SIGNER_KEY_PREFIX)
    ? cutTwice(signerKey.slice(SIGNER_KEY_PREFIX.length))
    : undefined;
  if (parts === undefined)
    throw new CheckpointError(
      'malformed-key',
      'signerKey: expected PRIVATE+KEY+name+keyhash+base64',
    );
  const [name, hashHex, keyBase64] = parts;
  let seed: Uint8Array = new Uint8Array(0);
  const { keyHash, publicKey } = checkKeyParts('signerKey', name, hashHex, keyBase64, (key) => {
    seed = key;
    return ed25519PublicFromSeed(key);
  });
  const privateKey = ed25519PrivateKey(seed);
  return {
    name,
    keyHash,
    publicKey,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (message) => ed25519Sign(privateKey, checkMessage(message)),
  };
}

/** `name+keyhash+base64(0x01 ‖ publicKey)` for a 32-byte Ed25519 public key. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array))
    throw new CheckpointError('bad-input', 'publicKey: expected a Uint8Array');
  if (publicKey.length !== ED25519_KEY_SIZE)
    throw new CheckpointError(
      'bad-key-length',
      `publicKey: expected 32 bytes, got ${publicKey.length}`,
    );
  const key = withAlgorithm(publicKey);
  return `${name}+${hashToHex(noteKeyHash(name, key))}+${encodeBase64(key)}`;
}

/** A fresh Ed25519 key pair as C2SP key strings, from node:crypto's CSPRNG. */
export function generateSignerKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name))
    throw new CheckpointError('bad-name', `name: ${JSON.stringify(name)} is not a valid key name`);
  const seed = ed25519RandomSeed();
  const publicKey = ed25519PublicFromSeed(seed);
  const keyHash = noteKeyHash(name, withAlgorithm(publicKey));
  return {
    signerKey: `${SIGNER_KEY_PREFIX}${name}+${hashToHex(keyHash)}+${encodeBase64(withAlgorithm(seed))}`,
    verifierKey: formatVerifierKey(name, publicKey),
  };
}

/** 8 lowercase hex digits, zero-padded, as sumdb/note prints key hashes. */
export function hashToHex(keyHash: number): string {
  return keyHash.toString(16).padStart(8, '0');
}

function checkKeyParts(
  field: string,
  name: string,
  hashHex: string,
  keyBase64: string,
  toPublicKey: (key: Uint8Array) => Uint8Array,
): { keyHash: number; publicKey: Uint8Array } {
  if (!isValidKeyName(name))
    throw new CheckpointError(
      'bad-name',
      `${field}: ${JSON.stringify(name)} is not a valid key name`,
    );
  if (!/^[0-9a-fA-F]{8}$/.test(hashHex))
    throw new CheckpointError(
      'malformed-key',
      `${field}: key hash ${JSON.stringify(hashHex)} is not 8 hex digits`,
    );
  const key = decodeBase64(keyBase64, false);
  if (key === undefined || key.length === 0)
    throw new CheckpointError('malformed-key', `${field}: key is not standard base64`);
  const algorithm = key[0];
  const raw = key.subarray(1);
  if (algorithm !== ED25519_ALGORITHM)
    throw new CheckpointError(
      'unsupported-key-algorithm',
      `${field}: algorithm byte 0x${hex2(algorithm)} is not Ed25519 (0x01)`,
    );
  if (raw.length !== ED25519_KEY_SIZE)
    throw new CheckpointError(
      'bad-key-length',
      `${field}: Ed25519 key must be 32 bytes, got ${raw.length}`,
    );
  const publicKey = toPublicKey(raw.slice());
  const keyHash = Number.parseInt(hashHex, 16);
  const expected = noteKeyHash(name, withAlgorithm(publicKey));
  if (keyHash !== expected)
    throw new CheckpointError(
      'key-hash-mismatch',
      `${field}: key hash ${hashHex} should be ${hashToHex(expected)} for this name and key`,
    );
  return { keyHash, publicKey };
}

/** name+hash+rest → [name, hash, rest], where rest may contain '+'. */
function cutTwice(text: string): [string, string, string] | undefined {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) return undefined;
  return [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
}

function makeVerifier(
  name: string,
  keyHash: number,
  publicKey: Uint8Array,
  verifierKey: string,
): Ed25519NoteVerifier {
  const keyObject = ed25519PublicKey(publicKey);
  return {
    name,
    keyHash,
    publicKey,
    verifierKey,
    verify: (message, signature) => {
      if (!(signature instanceof Uint8Array))
        throw new CheckpointError('bad-input', 'signature: expected a Uint8Array');
      return ed25519Verify(keyObject, checkMessage(message), signature);
    },
  };
}

function checkMessage(message: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array))
    throw new CheckpointError('bad-input', 'message: expected a Uint8Array');
  return message;
}

function withAlgorithm(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  out[0] = ED25519_ALGORITHM;
  out.set(key, 1);
  return out;
}

function hex2(n: number | undefined): string {
  return (n ?? 0).toString(16).padStart(2, '0');
}
