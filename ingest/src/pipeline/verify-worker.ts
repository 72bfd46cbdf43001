/**
 * Worker thread body: decodes and verifies batches (node:crypto ECDSA, the hot path) and
 * prepares what storing them needs (samples as columns, the log entry and its leaf hash), so
 * the main thread only sequences and writes. One KeyObject per device key is kept: parsing the
 * point costs about a fifth of a verification.
 */
import { parentPort } from 'node:worker_threads';
import { secp256k1PublicKeyObject, verifyBatch } from '@enginechain/shared';
import type { KeyObject } from 'node:crypto';
import { toVerifiedBatch } from './verified-batch.js';
import type { VerifyRequest, VerifyResponse } from './verifier-pool.js';

const keys = new Map<string, KeyObject>();

function keyFor(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
    'latin1',
  );
  let key = keys.get(id);
  if (!key) {
    key = secp256k1PublicKeyObject(publicKey);
    if (keys.size > 10_000) keys.clear();
    keys.set(id, key);
  }
  return key;
}

parentPort?.on('message', (req: VerifyRequest) => {
  let res: VerifyResponse;
  try {
    const verdict = verifyBatch(req.bytes, keyFor(req.publicKey));
    if (verdict.ok) {
      const batch = toVerifiedBatch(verdict.value.payload, req.bytes, req.receivedAt);
      // The buffer moves to the main thread; only the few strings and numbers are cloned.
      parentPort?.postMessage({ id: req.id, ok: true, batch } satisfies VerifyResponse, [
        batch.buffer,
      ]);
      return;
    }
    res = { id: req.id, ok: false, code: verdict.error.code, message: verdict.error.message };
  } catch (err) {
    res = { id: req.id, ok: false, code: 'bad-input', message: String(err) };
  }
  parentPort?.postMessage(res);
});
