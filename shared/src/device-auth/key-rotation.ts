/**
 * The key rotation request (docs/protocol.md, key rotation): a device asks its node to replace
 * its signing key. The request is signed twice, by the current key (only the device may ask)
 * and by the new one (the device holds it), so a stolen public key cannot be rotated in and a
 * request cannot be reused for another key.
 */
import { randomBytes } from 'node:crypto';
import { decodeCbor, encodeCbor, WireFormatError } from '../cbor/index.js';
import { compressPublicKey, signEs256k, verifyEs256k, type DeviceKey } from '../crypto/index.js';

export const KEY_ROTATION_CONTEXT = 'ec-key-rotation-v1';
const NONCE_BYTES = 16;
const SIGNATURE_BYTES = 64;
const PUBLIC_KEY_BYTES = 33;
/** A request is a small CBOR array and two signatures; anything longer is not one. */
const MAX_REQUEST_BYTES = 320;

export interface KeyRotationClaims {
  readonly deviceId: string;
  /** 33-byte compressed secp256k1 public key that signs from `fromSeq` on. */
  readonly publicKey: Uint8Array;
  readonly fromSeq: number;
  readonly timeMs: number;
  readonly nonce: Uint8Array;
}

export type KeyRotationRefusal =
  | 'malformed'
  | 'wrong-device'
  | 'bad-signature'
  | 'bad-proof'
  | 'same-key'
  | 'expired'
  | 'from-the-future';

/**
 * CBOR [context, deviceId, newPublicKey, fromSeq, timeMs, nonce] ‖ ES256K by the current key ‖
 * ES256K by the new key. `deviceId` is the device's id, which a rotation does not change.
 */
export function createKeyRotationRequest(args: {
  deviceId: string;
  currentKey: Pick<DeviceKey, 'privateKey'>;
  newKey: Pick<DeviceKey, 'privateKey' | 'publicKey'>;
  fromSeq: number;
  timeMs?: number;
  nonce?: Uint8Array;
}): Uint8Array {
  const timeMs = args.timeMs ?? Date.now();
  const nonce = args.nonce ?? new Uint8Array(randomBytes(NONCE_BYTES));
  if (!/^[0-9a-f]{32}$/.test(args.deviceId))
    throw new TypeError('deviceId: expected 32 hex digits');
  if (!Number.isSafeInteger(args.fromSeq) || args.fromSeq < 0)
    throw new TypeError('fromSeq: expected a non-negative integer');
  if (!Number.isSafeInteger(timeMs) || timeMs < 0)
    throw new TypeError('timeMs: expected a non-negative integer');
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES)
    throw new TypeError('nonce: expected 16 bytes');
  const publicKey = compressPublicKey(args.newKey.publicKey);
  const body = encodeCbor([
    KEY_ROTATION_CONTEXT,
    args.deviceId,
    publicKey,
    args.fromSeq,
    timeMs,
    nonce,
  ]);
  const request = new Uint8Array(body.length + 2 * SIGNATURE_BYTES);
  request.set(body);
  request.set(signEs256k(body, args.currentKey.privateKey), body.length);
  request.set(signEs256k(body, args.newKey.privateKey), body.length + SIGNATURE_BYTES);
  return request;
}

/**
 * Checks a rotation request against the device it names and its current key. Untrusted input
 * gets a verdict; the nonce's single use is left to the caller, who has the nonce store.
 */
export function verifyKeyRotationRequest(
  request: Uint8Array,
  expected: {
    deviceId: string;
    /** SEC1 bytes (33 or 65) of the key the device signs with now. */
    currentPublicKey: Uint8Array;
    nowMs: number;
    maxSkewMs?: number;
  },
): { ok: true; claims: KeyRotationClaims } | { ok: false; reason: KeyRotationRefusal } {
  if (
    !(request instanceof Uint8Array) ||
    request.length <= 2 * SIGNATURE_BYTES ||
    request.length > MAX_REQUEST_BYTES
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const bodyEnd = request.length - 2 * SIGNATURE_BYTES;
  const body = request.subarray(0, bodyEnd);
  const currentSignature = request.subarray(bodyEnd, bodyEnd + SIGNATURE_BYTES);
  const newSignature = request.subarray(bodyEnd + SIGNATURE_BYTES);
  let decoded: unknown;
  try {
    decoded = decodeCbor(body, { maxBytes: MAX_REQUEST_BYTES, deterministic: true });
  } catch (err) {
    if (err instanceof WireFormatError) return { ok: false, reason: 'malformed' };
    throw err;
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 6 ||
    decoded[0] !== KEY_ROTATION_CONTEXT ||
    typeof decoded[1] !== 'string' ||
    !(decoded[2] instanceof Uint8Array) ||
    decoded[2].length !== PUBLIC_KEY_BYTES ||
    typeof decoded[3] !== 'number' ||
    !Number.isSafeInteger(decoded[3]) ||
    typeof decoded[4] !== 'number' ||
    !(decoded[5] instanceof Uint8Array) ||
    decoded[5].length !== NONCE_BYTES
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const [, deviceId, publicKey, fromSeq, timeMs, nonce] = decoded as [
    string,
    string,
    Uint8Array,
    number,
    number,
    Uint8Array,
  ];
  if (deviceId !== expected.deviceId) return { ok: false, reason: 'wrong-device' };
  if (!verifyEs256k(body, currentSignature, expected.currentPublicKey))
    return { ok: false, reason: 'bad-signature' };
  let proofHolds: boolean;
  try {
    proofHolds = verifyEs256k(body, newSignature, publicKey);
  } catch {
    // Not a point on the curve: nobody holds its private key.
    proofHolds = false;
  }
  if (!proofHolds) return { ok: false, reason: 'bad-proof' };
  if (Buffer.compare(compressPublicKey(expected.currentPublicKey), publicKey) === 0)
    return { ok: false, reason: 'same-key' };
  const skew = expected.maxSkewMs ?? 120_000;
  if (timeMs < expected.nowMs - skew) return { ok: false, reason: 'expired' };
  if (timeMs > expected.nowMs + skew) return { ok: false, reason: 'from-the-future' };
  return { ok: true, claims: { deviceId, publicKey, fromSeq, timeMs, nonce } };
}
