import { batchHash, encodeLogEntry, leafHash, type BatchPayload } from '@enginechain/shared';
import type { AcceptedBatch } from '../storage/ingest-store.js';

/**
 * What the main thread needs of a verified batch, made where it was verified (a worker): the
 * log entry already encoded and hashed, the batch's time span and sample count. Samples are
 * not copied out: the store keeps the evidence bytes and reads samples from them. The binary
 * parts are one byte range, which the worker packs with other batches' into one buffer moved
 * (transferred) to the main thread instead of cloned; what is left to clone is a few strings
 * and numbers.
 */
export interface VerifiedBatch {
  readonly deviceId: string;
  readonly seq: number;
  readonly vin: string | null;
  readonly kind: string;
  readonly start: number;
  /** Latest time the batch covers: start, every sample and every event end. */
  readonly end: number;
  readonly receivedAt: number;
  readonly sampleCount: number;
  readonly events: AcceptedBatch['events'];
  readonly declaredDrops: AcceptedBatch['declaredDrops'];
  /** hash ‖ prev ‖ leafHash (32 bytes each) ‖ log entry. */
  readonly binary: Uint8Array;
}

/** Views into a VerifiedBatch's buffer (no copy). */
export function verifiedParts(v: VerifiedBatch): {
  hash: Uint8Array;
  prev: Uint8Array;
  leafHash: Uint8Array;
  logEntry: Uint8Array;
} {
  const b = v.binary;
  return {
    hash: b.subarray(0, 32),
    prev: b.subarray(32, 64),
    leafHash: b.subarray(64, 96),
    logEntry: b.subarray(96),
  };
}

/**
 * Builds the VerifiedBatch of a payload that passed verification (pure; the caller verified).
 * `hash` defaults to the SHA-256 of `bytes`.
 */
export function toVerifiedBatch(
  payload: BatchPayload,
  bytes: Uint8Array,
  receivedAt: number,
  hash: Uint8Array = batchHash(bytes),
): VerifiedBatch {
  const logEntry = encodeLogEntry({
    type: 'batch',
    deviceId: payload.deviceId,
    seq: payload.seq,
    batchHash: hash,
    receivedAt,
  });
  const binary = new Uint8Array(96 + logEntry.length);
  binary.set(hash, 0);
  binary.set(payload.prev, 32);
  binary.set(leafHash(logEntry), 64);
  binary.set(logEntry, 96);

  let end = payload.start;
  let sampleCount = 0;
  for (const c of payload.signals) {
    // Deltas are unsigned: the last sample of a column is its latest.
    let time = payload.start;
    for (const d of c.timeDeltas) time += d;
    if (time > end) end = time;
    sampleCount += c.timeDeltas.length;
  }
  for (const e of payload.events) if (e.end > end) end = e.end;
  return {
    deviceId: payload.deviceId,
    seq: payload.seq,
    vin: payload.vin,
    kind: payload.kind,
    start: payload.start,
    end,
    receivedAt,
    sampleCount,
    events: payload.events.map((e) => ({
      type: e.type,
      priority: e.priority,
      start: e.start,
      end: e.end,
      data: e.trace ? { ...e.data, traceId: e.trace.id } : e.data,
    })),
    declaredDrops: payload.dropped.map((d) => ({
      seq: d.seq,
      // A copy: the decoder's may view the whole message buffer, which cloning would copy.
      hash: d.hash.slice(),
      sampleCount: d.samples,
      firstTime: d.start,
      lastTime: d.end,
    })),
    binary,
  };
}

/** The store's row set for a verified batch (`vin` when the batch carried none: the device's). */
export function toAcceptedBatch(
  v: VerifiedBatch,
  bytes: Uint8Array,
  deviceVin: string,
  wasHeld: boolean,
  signedBy?: Uint8Array,
): AcceptedBatch {
  const p = verifiedParts(v);
  return {
    deviceId: v.deviceId,
    seq: v.seq,
    hash: p.hash,
    bytes,
    vin: v.vin ?? deviceVin,
    kind: v.kind,
    startTime: v.start,
    endTime: v.end,
    receivedAt: v.receivedAt,
    sampleCount: v.sampleCount,
    events: v.events,
    declaredDrops: v.declaredDrops,
    logEntry: p.logEntry,
    leafHash: p.leafHash,
    wasHeld,
    ...(signedBy ? { signedBy } : {}),
  };
}
