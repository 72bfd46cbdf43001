import * as secp from '@noble/secp256k1';
import { bytesToHex } from '@noble/hashes/utils.js';
import { assertPrivateKey, compressPublicKey, sha256 } from './secp256k1.js';

/**
 * A device's signing identity. The private key never leaves the gateway; the public key is
 * enrolled with the ingestion node, which knows the device by `deviceId`.
 */
export interface DeviceKey {
  /** 32-byte secp256k1 scalar. */
  readonly privateKey: Uint8Array;
  /** 33-byte compressed SEC1 public key. */
  readonly publicKey: Uint8Array;
  /** `deviceIdFromPublicKey(publicKey)`. */
  readonly deviceId: string;
}

/** Length of the device id in bytes (the COSE `kid`); the string form is twice as many hex digits. */
export const DEVICE_ID_BYTES = 16;

/**
 * The device id: lower-case hex of the first 16 bytes of SHA-256 over the 33-byte compressed
 * public key. Tied to the key (a new key is a new device), short enough for MQTT topics, and
 * 128 bits keep accidental collisions out of reach for any fleet.
 */
export function deviceIdFromPublicKey(publicKey: Uint8Array): string {
  return bytesToHex(deviceIdBytesFromPublicKey(publicKey));
}

/** The 16 bytes behind `deviceIdFromPublicKey`, as carried in the COSE `kid`. */
export function deviceIdBytesFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return sha256(compressPublicKey(publicKey)).slice(0, DEVICE_ID_BYTES);
}

export function deviceKeyFromPrivateKey(privateKey: Uint8Array): DeviceKey {
  assertPrivateKey(privateKey);
  const publicKey = secp.getPublicKey(privateKey, true);
  return { privateKey: privateKey.slice(), publicKey, deviceId: deviceIdFromPublicKey(publicKey) };
}

/** A fresh key pair from the platform CSPRNG (crypto.getRandomValues via noble). */
export function generateDeviceKey(): DeviceKey {
  return deviceKeyFromPrivateKey(secp.utils.randomSecretKey());
}
