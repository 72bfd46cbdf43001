/**
 * Worker thread body: decodes and verifies batches (node:crypto ECDSA, the hot path) and
 * prepares what storing them needs (the log entry and its leaf hash, time span, events), so
 * the main thread only sequences and writes. One KeyObject per device key is kept: parsing the
 * point costs about a fifth of a verification.
 */
import { parentPort } from 'node:worker_threads';
import { secp256k1PublicKeyObject, verifyBatch } from '@enginechain/shared';
import type { KeyObject } from 'node:crypto';
import {
  packVerifiedBytes,
  packedLength,
  toVerifiedBatch,
  type VerifiedBatch,
} from './verified-batch.js';
import type { VerifiedFields, VerifyRequests, VerifyResponses } from './verifier-pool.js';

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

type Result = VerifyResponses['results'][number];

interface Done {
  readonly result: Result;
  /** The batch whose byte fields go into the message's packed buffer (when it verified). */
  readonly verified?: VerifiedBatch;
}

function verifyOne(
  id: number,
  bytes: Uint8Array,
  publicKey: string,
  deviceId: string,
  receivedAt: number,
): Done {
  try {
    const verdict = verifyBatch(bytes, keyFor(publicKey), deviceId);
    if (!verdict.ok)
      return {
        result: { id, ok: false, code: verdict.error.code, message: verdict.error.message },
      };
    const verified = toVerifiedBatch(verdict.value.payload, bytes, receivedAt);
    const batch: VerifiedFields = {
      deviceId: verified.deviceId,
      seq: verified.seq,
      vin: verified.vin,
      kind: verified.kind,
      start: verified.start,
      end: verified.end,
      receivedAt: verified.receivedAt,
      sampleCount: verified.sampleCount,
      events: verified.events,
      declaredDrops: verified.declaredDrops,
    };
    return { result: { id, ok: true, batch, at: 0, length: packedLength(verified) }, verified };
  } catch (err) {
    return { result: { id, ok: false, code: 'bad-input', message: String(err) } };
  }
}

/** Sends answers with every batch's byte fields packed in one transferred buffer. */
function answer(done: readonly Done[]): void {
  let size = 0;
  for (const d of done) if (d.verified) size += packedLength(d.verified);
  const packed = new Uint8Array(size);
  let at = 0;
  const results = done.map(({ result, verified }) => {
    if (!verified || !result.ok) return result;
    packVerifiedBytes(verified, packed, at);
    const placed = { ...result, at };
    at += result.length;
    return placed;
  });
  parentPort?.postMessage({ results, packed } satisfies VerifyResponses, [packed.buffer]);
}

parentPort?.on('message', (req: VerifyRequests) => {
  let done: Done[] = [];
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
