/**
 * Device-signed credentials (docs/protocol.md): the MQTT password token a device presents on
 * every CONNECT, and the proof of key possession sent with enrolment. Both are ES256K over
 * deterministic CBOR, so the node checks them with the same code path as batches.
 */
import { randomBytes } from 'node:crypto';
import { decodeCbor, encodeCbor, WireFormatError } from '../cbor/index.js';
import { encodeBase64 } from '../checkpoint/text.js';
import {
  signEs256k,
  verifyEs256k,
  type DeviceKey,
  type Secp256k1PublicKey,
} from '../crypto/index.js';

export const MQTT_TOKEN_CONTEXT = 'ec-mqtt-v1';
export const ENROLMENT_CONTEXT = 'enginechain-enrol-v1';
const NONCE_BYTES = 16;
const SIGNATURE_BYTES = 64;
/** A token is a small CBOR array and a signature; anything longer is not one. */
const MAX_TOKEN_BYTES = 256;

/** A fresh MQTT password: CBOR [context, deviceId, timeMs, nonce] ‖ ES256K signature. */
export function createMqttToken(
  deviceId: string,
  privateKey: Uint8Array,
  timeMs: number = Date.now(),
  nonce: Uint8Array = new Uint8Array(randomBytes(NONCE_BYTES)),
): Uint8Array {
  if (!/^[0-9a-f]{32}$/.test(deviceId)) throw new TypeError('deviceId: expected 32 hex digits');
  if (!Number.isSafeInteger(timeMs) || timeMs < 0)
    throw new TypeError('timeMs: expected a non-negative integer');
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES)
    throw new TypeError('nonce: expected 16 bytes');
  const body = encodeCbor([MQTT_TOKEN_CONTEXT, deviceId, timeMs, nonce]);
  const token = new Uint8Array(body.length + SIGNATURE_BYTES);
  token.set(body);
  token.set(signEs256k(body, privateKey), body.length);
  return token;
}

export type MqttTokenRefusal =
  'malformed' | 'wrong-device' | 'bad-signature' | 'expired' | 'from-the-future';

export interface MqttTokenClaims {
  readonly deviceId: string;
  readonly timeMs: number;
  readonly nonce: Uint8Array;
}

/**
 * Checks a token against the device it claims to be (the MQTT username) and its registered
 * key. Untrusted input gets a verdict; only the replay check (nonce single use) is left to the
 * caller, who has the nonce store.
 */
export function verifyMqttToken(
  token: Uint8Array,
  expected: { deviceId: string; publicKey: Secp256k1PublicKey; nowMs: number; maxSkewMs?: number },
): { ok: true; claims: MqttTokenClaims } | { ok: false; reason: MqttTokenRefusal } {
  if (
    !(token instanceof Uint8Array) ||
    token.length <= SIGNATURE_BYTES ||
    token.length > MAX_TOKEN_BYTES
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const body = token.subarray(0, token.length - SIGNATURE_BYTES);
  const signature = token.subarray(token.length - SIGNATURE_BYTES);
  let decoded: unknown;
  try {
    decoded = decodeCbor(body, { maxBytes: MAX_TOKEN_BYTES, deterministic: true });
  } catch (err) {
    if (err instanceof WireFormatError) return { ok: false, reason: 'malformed' };
    throw err;
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 4 ||
    decoded[0] !== MQTT_TOKEN_CONTEXT ||
    typeof decoded[1] !== 'string' ||
    typeof decoded[2] !== 'number' ||
    !(decoded[3] instanceof Uint8Array) ||
    decoded[3].length !== NONCE_BYTES
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const [, deviceId, timeMs, nonce] = decoded as [string, string, number, Uint8Array];
  if (deviceId !== expected.deviceId) return { ok: false, reason: 'wrong-device' };
  if (!verifyEs256k(body, signature, expected.publicKey))
    return { ok: false, reason: 'bad-signature' };
  const skew = expected.maxSkewMs ?? 120_000;
  if (timeMs < expected.nowMs - skew) return { ok: false, reason: 'expired' };
  if (timeMs > expected.nowMs + skew) return { ok: false, reason: 'from-the-future' };
  return { ok: true, claims: { deviceId, timeMs, nonce } };
}

/** The bytes a device signs at enrolment to prove it holds the key it registers. */
export function enrolmentProofMessage(token: string, publicKey: Uint8Array): Uint8Array {
  return encodeCbor([ENROLMENT_CONTEXT, token, publicKey]);
}

/** The JSON body of `POST /v1/devices` (docs/protocol.md): the key and its proof in base64. */
export interface EnrolmentRequestBody {
  readonly token: string;
  readonly vin: string;
  readonly publicKey: string;
  readonly proof: string;
}

/** What a device sends to register `key` for `vin` with a single-use enrolment token. */
export function enrolmentRequestBody(
  token: string,
  vin: string,
  key: DeviceKey,
): EnrolmentRequestBody {
  const proof = signEs256k(enrolmentProofMessage(token, key.publicKey), key.privateKey);
  return { token, vin, publicKey: encodeBase64(key.publicKey), proof: encodeBase64(proof) };
}
