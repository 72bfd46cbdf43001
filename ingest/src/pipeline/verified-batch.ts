import { batchHash, encodeLogEntry, leafHash, type BatchPayload } from '@enginechain/shared';
import type { AcceptedBatch } from '../storage/ingest-store.js';

/**
 * What the main thread needs of a verified batch, made where it was verified (a worker): the
 * log entry already encoded and hashed, the batch's time span and sample count. Samples are
 * not copied out: the store keeps the evidence bytes and reads samples from them. The worker
 * packs the byte fields of many batches into one buffer moved (transferred) to the main thread
 * instead of cloned, where they arrive as views into it; what is left to clone is a few strings
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
  /** SHA-256 of the batch's bytes as received. */
  readonly hash: Uint8Array;
  readonly prev: Uint8Array;
  /** The log entry's RFC 9162 leaf hash. */
  readonly leafHash: Uint8Array;
  readonly logEntry: Uint8Array;
}

/** The byte fields of a VerifiedBatch, which travel packed (VerifiedBatchBytes). */
export type VerifiedBatchBytes = 'hash' | 'prev' | 'leafHash' | 'logEntry';

/** Bytes `packVerifiedBytes` writes for `v`. */
export const packedLength = (v: Pick<VerifiedBatch, 'logEntry'>): number => 96 + v.logEntry.length;

/** Writes hash ‖ prev ‖ leafHash (32 bytes each) ‖ log entry at `at` in `out`. */
export function packVerifiedBytes(
  v: Pick<VerifiedBatch, VerifiedBatchBytes>,
  out: Uint8Array,
  at: number,
): void {
  out.set(v.hash, at);
  out.set(v.prev, at + 32);
  out.set(v.leafHash, at + 64);
  out.set(v.logEntry, at + 96);
}

/**
 * The VerifiedBatch of `fields` whose byte fields `packVerifiedBytes` wrote at `at` in
 * `packed`, as views (no copy). Spelled out field by field: this runs for every batch.
 */
export function unpackVerifiedBatch(
  fields: Omit<VerifiedBatch, VerifiedBatchBytes>,
  packed: Uint8Array,
  at: number,
  length: number,
): VerifiedBatch {
  return {
    deviceId: fields.deviceId,
    seq: fields.seq,
    vin: fields.vin,
    kind: fields.kind,
    start: fields.start,
    end: fields.end,
    receivedAt: fields.receivedAt,
    sampleCount: fields.sampleCount,
    events: fields.events,
    declaredDrops: fields.declaredDrops,
    hash: packed.subarray(at, at + 32),
    prev: packed.subarray(at + 32, at + 64),
    leafHash: packed.subarray(at + 64, at + 96),
    logEntry: packed.subarray(at + 96, at + length),
  };
}

const NO_EVENTS: VerifiedBatch['events'] = [];
const NO_DROPS: VerifiedBatch['declaredDrops'] = [];

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
    events:
      payload.events.length === 0
        ? NO_EVENTS
        : payload.events.map((e) => ({
            type: e.type,
            priority: e.priority,
            start: e.start,
            end: e.end,
            data: e.trace ? { ...e.data, traceId: e.trace.id } : e.data,
          })),
    declaredDrops:
      payload.dropped.length === 0
        ? NO_DROPS
        : payload.dropped.map((d) => ({
            seq: d.seq,
            // A copy: the decoder's may view the whole message buffer, which cloning would copy.
            hash: d.hash.slice(),
            sampleCount: d.samples,
            firstTime: d.start,
            lastTime: d.end,
          })),
    hash,
    prev: payload.prev,
    leafHash: leafHash(logEntry),
    logEntry,
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
  return {
    deviceId: v.deviceId,
    seq: v.seq,
    hash: v.hash,
    bytes,
    vin: v.vin ?? deviceVin,
    kind: v.kind,
    startTime: v.start,
    endTime: v.end,
    receivedAt: v.receivedAt,
    sampleCount: v.sampleCount,
    events: v.events,
    declaredDrops: v.declaredDrops,
    logEntry: v.logEntry,
    leafHash: v.leafHash,
    wasHeld,
    ...(signedBy ? { signedBy } : {}),
  };
}
