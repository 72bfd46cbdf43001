import {
  encodeLogEntry,
  verifyKeyRotationRequest,
  type KeyRotationRefusal,
} from '@enginechain/shared';
import { HttpError, type HttpErrorCode } from '../http/errors.js';
import type { IngestStore } from '../storage/ingest-store.js';

export type KeyRotationStore = Pick<IngestStore, 'getDevice' | 'useNonce' | 'rotateDeviceKey'>;

export interface KeyRotationResult {
  readonly deviceId: string;
  readonly fromSeq: number;
  readonly rotatedAt: number;
  /** Leaf index of the key-rotation entry in the log. */
  readonly leafIndex: number;
}

/** How long a request's time may differ from the node's clock; its nonce is kept as long. */
const MAX_SKEW_MS = 120_000;

const REFUSAL_CODES: Record<KeyRotationRefusal, HttpErrorCode> = {
  malformed: 'bad-request',
  'wrong-device': 'bad-request',
  'bad-signature': 'bad-signature',
  'bad-proof': 'bad-proof',
  'same-key': 'same-key',
  expired: 'stale-request',
  'from-the-future': 'stale-request',
};

/**
 * Device key rotation (docs/protocol.md, key rotation). The device proves it is itself (its
 * current key signs) and holds the new key (the new key signs too); the node records the new
 * key in the same transaction as a `key-rotation` log entry, so the public log and the node
 * never disagree on which key signs which seqs. The device id does not change.
 */
export class KeyRotationService {
  constructor(
    private readonly store: KeyRotationStore,
    private readonly now: () => number = Date.now,
  ) {}

  async rotate(deviceId: string, request: Uint8Array): Promise<KeyRotationResult> {
    const device = await this.store.getDevice(deviceId);
    if (!device) throw new HttpError('unknown-device');
    if (device.status !== 'active') throw new HttpError('revoked-device');
    const now = this.now();
    const verdict = verifyKeyRotationRequest(request, {
      deviceId,
      currentPublicKey: device.publicKey,
      nowMs: now,
      maxSkewMs: MAX_SKEW_MS,
    });
    if (!verdict.ok) throw new HttpError(REFUSAL_CODES[verdict.reason]);
    const { publicKey, fromSeq, nonce } = verdict.claims;
    // The same nonce store as MQTT tokens: a nonce is single use across both, per device.
    if (!(await this.store.useNonce(deviceId, nonce, now + 2 * MAX_SKEW_MS, now)))
      throw new HttpError('replayed-request');
    const entry = encodeLogEntry({ type: 'key-rotation', deviceId, publicKey, fromSeq, at: now });
    // Checked again inside the store's transaction: a revocation, a batch stored past fromSeq
    // or another rotation since the checks above refuses it there, and no leaf is appended.
    const outcome = await this.store.rotateDeviceKey({
      deviceId,
      publicKey,
      fromSeq,
      logEntry: entry,
    });
    if ('error' in outcome) {
      if (outcome.error === 'unknown-device') throw new HttpError('unknown-device');
      if (outcome.error === 'revoked') throw new HttpError('revoked-device');
      throw new HttpError(
        'seq-passed',
        `fromSeq ${fromSeq}: batches from the device's next seq ${device.nextSeq} on may rotate, and only past the last rotation`,
      );
    }
    const { leafIndex } = outcome;
    return { deviceId, fromSeq, rotatedAt: now, leafIndex };
  }
}
