import {
  batchHash,
  encodeLogEntry,
  leafHash,
  scaledToNumber,
  type BatchPayload,
} from '@enginechain/shared';
import type { ColumnarAcceptedBatch, SampleColumns } from '../storage/ingest-store.js';

/**
 * What the main thread needs of a verified batch, made where it was verified (a worker): the
 * samples as two Float64Arrays, the leaf already encoded and hashed. Every binary part lives in
 * one ArrayBuffer, moved (transferred) to the main thread instead of cloned; what is left to
 * clone is a few strings and numbers.
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
  readonly columns: SampleColumns['columns'];
  readonly events: ColumnarAcceptedBatch['events'];
  readonly declaredDrops: ColumnarAcceptedBatch['declaredDrops'];
  /** times ‖ numbers (8 bytes each per sample) ‖ hash ‖ prev ‖ leafHash (32 each) ‖ log entry. */
  readonly buffer: ArrayBuffer;
  readonly sampleCount: number;
}

/** Views into a VerifiedBatch's buffer (no copy). */
export function verifiedParts(v: VerifiedBatch): {
  times: Float64Array;
  numbers: Float64Array;
  hash: Uint8Array;
  prev: Uint8Array;
  leafHash: Uint8Array;
  logEntry: Uint8Array;
} {
  const n = v.sampleCount;
  const at = n * 16;
  return {
    times: new Float64Array(v.buffer, 0, n),
    numbers: new Float64Array(v.buffer, n * 8, n),
    hash: new Uint8Array(v.buffer, at, 32),
    prev: new Uint8Array(v.buffer, at + 32, 32),
    leafHash: new Uint8Array(v.buffer, at + 64, 32),
    logEntry: new Uint8Array(v.buffer, at + 96),
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
  let n = 0;
  for (const c of payload.signals) n += c.timeDeltas.length;
  const logEntry = encodeLogEntry({
    type: 'batch',
    deviceId: payload.deviceId,
    seq: payload.seq,
    batchHash: hash,
    receivedAt,
  });
  const buffer = new ArrayBuffer(n * 16 + 96 + logEntry.length);
  const times = new Float64Array(buffer, 0, n);
  const numbers = new Float64Array(buffer, n * 8, n);
  const bytesView = new Uint8Array(buffer, n * 16);
  bytesView.set(hash, 0);
  bytesView.set(payload.prev, 32);
  bytesView.set(leafHash(logEntry), 64);
  bytesView.set(logEntry, 96);

  let end = payload.start;
  let k = 0;
  const columns: { name: string; unit: string; count: number; texts?: string[] }[] = [];
  for (const c of payload.signals) {
    let time = payload.start;
    const count = c.timeDeltas.length;
    const v = c.values;
    for (let i = 0; i < count; i++, k++) {
      time += c.timeDeltas[i] as number;
      times[k] = time;
      if (v.type === 'scaled') numbers[k] = scaledToNumber(v.integers[i] as number, v.exponent);
      else if (v.type === 'float') numbers[k] = v.numbers[i] as number;
      else if (v.type === 'boolean') numbers[k] = v.booleans[i] ? 1 : 0;
    }
    if (time > end) end = time;
    columns.push(
      v.type === 'string'
        ? { name: c.name, unit: c.unit, count, texts: [...v.strings] }
        : { name: c.name, unit: c.unit, count },
    );
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
    columns,
    events: payload.events.map((e) => ({
      type: e.type,
      priority: e.priority,
      start: e.start,
      end: e.end,
      data: e.trace ? { ...e.data, traceId: e.trace.id } : e.data,
    })),
    declaredDrops: payload.dropped.map((d) => ({
      seq: d.seq,
      hash: d.hash,
      sampleCount: d.samples,
      firstTime: d.start,
      lastTime: d.end,
    })),
    buffer,
    sampleCount: n,
  };
}

/** The store's row set for a verified batch (`vin` when the batch carried none: the device's). */
export function toAcceptedBatch(
  v: VerifiedBatch,
  bytes: Uint8Array,
  deviceVin: string,
  wasHeld: boolean,
): ColumnarAcceptedBatch {
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
    samples: { columns: v.columns, times: p.times, numbers: p.numbers },
    events: v.events,
    declaredDrops: v.declaredDrops,
    logEntry: p.logEntry,
    leafHash: p.leafHash,
    wasHeld,
  };
}
