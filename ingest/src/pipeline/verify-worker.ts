/**
 * Worker thread body: decodes and verifies batches (node:crypto ECDSA, the hot path) and
 * prepares what storing them needs (the log entry and its leaf hash, time span, events), so
 * the main thread only sequences and writes. One KeyObject per device key is kept: parsing the
 * point costs about a fifth of a verification.
 */
import { parentPort } from 'node:worker_threads';
import { secp256k1PublicKeyObject, verifyBatch } from '@enginechain/shared';
import type { KeyObject } from 'node:crypto';
import { encodeAnswers, toVerifiedBatch, type VerifyAnswer } from './verified-batch.js';
import type { VerifyRequests } from './verifier-pool.js';

/** Answers go back in messages of at most this many: the first ones need not wait for all. */
const ANSWERS_PER_MESSAGE = 32;

const keys = new Map<string, KeyObject>();

/** `publicKey`: SEC1 bytes as a latin1 string (VerifyRequests). */
function keyFor(publicKey: string): KeyObject {
  let key = keys.get(publicKey);
  if (!key) {
    key = secp256k1PublicKeyObject(new Uint8Array(Buffer.from(publicKey, 'latin1')));
    if (keys.size > 10_000) keys.clear();
    keys.set(publicKey, key);
  }
  return key;
}

function verifyOne(
  id: number,
  bytes: Uint8Array,
  publicKey: string,
  deviceId: string,
  receivedAt: number,
): VerifyAnswer {
  try {
    const verdict = verifyBatch(bytes, keyFor(publicKey), deviceId);
    if (!verdict.ok)
      return { id, ok: false, code: verdict.error.code, message: verdict.error.message };
    return { id, ok: true, batch: toVerifiedBatch(verdict.value.payload, bytes, receivedAt) };
  } catch (err) {
    return { id, ok: false, code: 'bad-input', message: String(err) };
  }
}

function answer(done: readonly VerifyAnswer[]): void {
  const answers = encodeAnswers(done);
  parentPort?.postMessage(answers, [answers.packed.buffer]);
}

parentPort?.on('message', (req: VerifyRequests) => {
  let done: VerifyAnswer[] = [];
  let at = 0;
  for (let i = 0; i < req.ids.length; i++) {
    const length = req.lengths[i] as number;
    const bytes = req.bytes.subarray(at, at + length);
    at += length;
    done.push(
      verifyOne(
        req.ids[i] as number,
        bytes,
        req.publicKeys[i] as string,
        req.deviceIds[i] as string,
        req.receivedAts[i] as number,
      ),
    );
    if (done.length >= ANSWERS_PER_MESSAGE) {
      answer(done);
      done = [];
    }
  }
  if (done.length > 0) answer(done);
});
