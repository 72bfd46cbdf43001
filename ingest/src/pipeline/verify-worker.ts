/**
 * Worker thread body: decodes and verifies batches (node:crypto ECDSA, the hot path) so the
 * main thread only sequences and stores. One KeyObject per device key is kept: parsing the
 * point costs about a fifth of a verification.
 */
import { parentPort } from 'node:worker_threads';
import { batchHash, secp256k1PublicKeyObject, verifyBatch } from '@enginechain/shared';
import type { KeyObject } from 'node:crypto';
import type { VerifyRequest, VerifyResponse } from './verifier-pool.js';

const keys = new Map<string, KeyObject>();

function keyFor(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex');
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
    res = verdict.ok
      ? { id: req.id, ok: true, payload: verdict.value.payload, hash: batchHash(req.bytes) }
      : { id: req.id, ok: false, code: verdict.error.code, message: verdict.error.message };
  } catch (err) {
    res = { id: req.id, ok: false, code: 'bad-input', message: String(err) };
  }
  parentPort?.postMessage(res);
});
