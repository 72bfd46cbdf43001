import type { KeyObject } from 'node:crypto';
import { decodeBatch, type DecodedBatch } from '../batch/signed-batch.js';
import type { CborKey, CborValue } from '../cbor/types.js';
import { WireFormatError, verdictOf, type Verdict } from '../cbor/wire-format-error.js';
import { COSE_HEADER, ES256K, checkCoseSign1Signature } from '../cose/cose-sign1.js';
import { toSecp256k1KeyObject, type Secp256k1PublicKey } from '../crypto/secp256k1.js';

/**
 * Verifies a batch of `deviceId` signed with `publicKey`, one of the keys the device has held
 * (docs/protocol.md, key rotation). `verifyBatch` ties the kid to the key's own id, which holds
 * only for the key a device registered with; a rotated key keeps the device id, so here the kid
 * must be the device's id and the key is whichever the caller found valid for the batch's seq.
 */
export function verifyDeviceBatch(
  bytes: Uint8Array,
  publicKey: Secp256k1PublicKey | KeyObject,
  deviceId: string,
): Verdict<DecodedBatch> {
  const key = toSecp256k1KeyObject(publicKey);
  const decoded = decodeBatch(bytes);
  if (!decoded.ok) return decoded;
  const batch = decoded.value;
  return verdictOf(() => {
    if (batch.deviceId !== deviceId) {
      throw new WireFormatError(
        'bad-kid',
        `kid ${batch.deviceId} is not the device id ${deviceId}`,
      );
    }
    checkCoseSign1Signature(
      {
        protectedBytes: batch.protectedBytes,
        protectedHeader: new Map<CborKey, CborValue>([[COSE_HEADER.alg, batch.header.alg]]),
        unprotectedHeader: new Map(),
        payload: batch.payloadBytes,
        signature: batch.signature,
        tagged: true,
      },
      key,
      ES256K,
    );
    return batch;
  });
}
