import {
  MAX_BATCH_BYTES,
  ZERO_HASH,
  decodeBatch,
  encodeLogEntry,
  leafHash,
  samplesFromColumns,
  type BatchPayload,
} from '@enginechain/shared';
import type { IngestStore } from '../storage/ingest-store.js';
import type { IngestRejectionCode } from './rejections.js';
import type { VerifierPool } from './verifier-pool.js';

export interface AcceptedBatchInfo {
  readonly deviceId: string;
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly leafIndex: number;
  readonly receivedAt: number;
  readonly kind: string;
}

export type IngestOutcome =
  | {
      readonly status: 'accepted';
      readonly seq: number;
      readonly leafIndex: number;
      readonly flags: readonly IngestRejectionCode[];
    }
  | { readonly status: 'duplicate'; readonly seq: number; readonly leafIndex: number }
  | { readonly status: 'held'; readonly seq: number; readonly missing: readonly number[] }
  | { readonly status: 'quarantined'; readonly seq: number; readonly code: IngestRejectionCode }
  | {
      readonly status: 'rejected';
      readonly code: IngestRejectionCode | string;
      readonly message: string;
    };

export interface BatchIngestorOptions {
  readonly store: IngestStore;
  readonly pool: VerifierPool;
  readonly now?: () => number;
  /** Called for every batch that entered the log (in seq order per device). */
  readonly onAccepted?: (info: AcceptedBatchInfo) => void;
  /** Called when a duplicate arrives: its receipt should go out again. */
  readonly onDuplicate?: (info: AcceptedBatchInfo) => void;
  /** Called when a gap is seen, at most once per device per `resendIntervalMs`. */
  readonly onResendNeeded?: (deviceId: string, seqs: readonly number[]) => void;
  /** Every rejection, quarantine and flag, for logs and metrics. */
  readonly onRejection?: (
    code: IngestRejectionCode | string,
    detail: { deviceId: string; seq?: number; message: string },
  ) => void;
  /** How far ahead of the chain a batch may be held. */
  readonly maxAheadSeqs?: number;
  /** A batch starting later than now + this is flagged. */
  readonly futureToleranceMs?: number;
  readonly resendIntervalMs?: number;
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The verification pipeline (issue 6): size → COSE structure → algorithm → kid registered and
 * active → signature (in worker threads) → VIN → sequence. What passes goes into storage and
 * the log in one transaction; every refusal has a code and never touches what was accepted.
 * Sequencing is serialised per device; devices proceed independently.
 */
export class BatchIngestor {
  private readonly o: Required<
    Omit<BatchIngestorOptions, 'onAccepted' | 'onDuplicate' | 'onResendNeeded' | 'onRejection'>
  > &
    BatchIngestorOptions;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly lastResend = new Map<string, number>();

  constructor(options: BatchIngestorOptions) {
    this.o = {
      now: Date.now,
      maxAheadSeqs: 10_000,
      futureToleranceMs: 5 * 60_000,
      resendIntervalMs: 5_000,
      ...options,
    };
  }

  /**
   * Takes one batch as it arrived on `topicDeviceId`'s topic. Verification starts at once and
   * overlaps with other batches; sequencing keeps each device's arrival order.
   */
  ingest(topicDeviceId: string, bytes: Uint8Array): Promise<IngestOutcome> {
    const receivedAt = this.o.now();
    const checked = this.check(topicDeviceId, bytes, receivedAt);
    return this.serialised(topicDeviceId, async () => {
      const c = await checked;
      if ('outcome' in c) return c.outcome;
      return this.sequence(topicDeviceId, bytes, c.hash, c.payload, receivedAt, c.flags);
    });
  }

  /** Everything that needs no chain state: size, device, signature (in a worker), VIN, time. */
  private async check(
    topicDeviceId: string,
    bytes: Uint8Array,
    receivedAt: number,
  ): Promise<
    | { outcome: IngestOutcome }
    | { payload: BatchPayload; hash: Uint8Array; flags: IngestRejectionCode[] }
  > {
    if (bytes.length > MAX_BATCH_BYTES) {
      return {
        outcome: await this.reject(
          topicDeviceId,
          'too-large',
          `${bytes.length} bytes exceed ${MAX_BATCH_BYTES}`,
        ),
      };
    }
    const device = await this.o.store.getDevice(topicDeviceId);
    if (!device)
      return {
        outcome: await this.reject(topicDeviceId, 'unknown-device', `no device ${topicDeviceId}`),
      };
    if (device.status !== 'active') {
      return {
        outcome: await this.reject(
          topicDeviceId,
          'revoked-device',
          `device ${topicDeviceId} is ${device.status}`,
        ),
      };
    }
    const verdict = await this.o.pool.verify(bytes, device.publicKey);
    if (!verdict.ok) {
      const code = verdict.code === 'bad-kid' ? 'topic-mismatch' : verdict.code;
      return { outcome: await this.reject(topicDeviceId, code, verdict.message) };
    }
    const payload = verdict.payload;
    if (payload.vin !== null && payload.vin !== device.vin) {
      return {
        outcome: await this.reject(
          topicDeviceId,
          'vin-mismatch',
          `batch VIN ${payload.vin} is not ${device.vin}`,
          payload.seq,
        ),
      };
    }
    const flags: IngestRejectionCode[] = [];
    if (payload.start > receivedAt + this.o.futureToleranceMs) {
      flags.push('future-timestamp');
      this.o.onRejection?.('future-timestamp', {
        deviceId: topicDeviceId,
        seq: payload.seq,
        message: `starts ${Math.round((payload.start - receivedAt) / 1000)} s in the future`,
      });
    }
    return { payload, hash: verdict.hash, flags };
  }

  private async sequence(
    deviceId: string,
    bytes: Uint8Array,
    hash: Uint8Array,
    payload: BatchPayload,
    receivedAt: number,
    flags: IngestRejectionCode[],
  ): Promise<IngestOutcome> {
    const store = this.o.store;
    const device = await store.getDevice(deviceId);
    if (!device) return this.reject(deviceId, 'unknown-device', `device ${deviceId} vanished`);
    const seq = payload.seq;

    if (seq < device.nextSeq) {
      const existing = await store.getBatch(deviceId, seq);
      if (existing && eq(existing.hash, hash)) {
        this.o.onDuplicate?.({
          deviceId,
          seq,
          hash,
          leafIndex: existing.leafIndex,
          receivedAt: existing.receivedAt,
          kind: existing.kind,
        });
        return { status: 'duplicate', seq, leafIndex: existing.leafIndex };
      }
      return this.quarantine(deviceId, seq, hash, bytes, receivedAt, 'fork');
    }

    if (seq > device.nextSeq) {
      if (seq - device.nextSeq > this.o.maxAheadSeqs) {
        return this.reject(
          deviceId,
          'seq-too-far',
          `seq ${seq} is ${seq - device.nextSeq} ahead of ${device.nextSeq}`,
          seq,
        );
      }
      const held = (await store.heldBatches(deviceId)).find((h) => h.seq === seq);
      if (held && !eq(held.hash, hash))
        return this.quarantine(deviceId, seq, hash, bytes, receivedAt, 'fork');
      await store.holdBatch({ deviceId, seq, hash, bytes, receivedAt });
      if (payload.dropped.length > 0) {
        await store.recordDeclaredDrops(
          deviceId,
          seq,
          payload.dropped.map((d) => ({
            seq: d.seq,
            hash: d.hash,
            sampleCount: d.samples,
            firstTime: d.start,
            lastTime: d.end,
          })),
        );
      }
      await this.drain(deviceId);
      const after = await store.getDevice(deviceId);
      if (after && after.nextSeq > seq) {
        const row = await store.getBatch(deviceId, seq);
        return { status: 'accepted', seq, leafIndex: row?.leafIndex ?? -1, flags };
      }
      const missing = await this.missingSeqs(deviceId);
      this.requestResend(deviceId, missing);
      return { status: 'held', seq, missing };
    }

    const accepted = await this.acceptInOrder(
      deviceId,
      bytes,
      hash,
      payload,
      receivedAt,
      device.headHash,
    );
    if (accepted.status !== 'accepted') return accepted;
    await this.drain(deviceId);
    return { ...accepted, flags };
  }

  /** Accepts seq == nextSeq when its prev chains onto the head. */
  private async acceptInOrder(
    deviceId: string,
    bytes: Uint8Array,
    hash: Uint8Array,
    payload: BatchPayload,
    receivedAt: number,
    headHash: Uint8Array,
  ): Promise<IngestOutcome> {
    const expectedPrev = payload.seq === 0 ? ZERO_HASH : headHash;
    if (!eq(payload.prev, expectedPrev)) {
      return this.quarantine(deviceId, payload.seq, hash, bytes, receivedAt, 'bad-prev');
    }
    const samples = samplesFromColumns(payload.signals, payload.start);
    const times = samples.map((s) => s.time);
    const logEntry = encodeLogEntry({
      type: 'batch',
      deviceId,
      seq: payload.seq,
      batchHash: hash,
      receivedAt,
    });
    const { leafIndex } = await this.o.store.acceptBatch({
      deviceId,
      seq: payload.seq,
      hash,
      bytes,
      vin: payload.vin ?? (await this.o.store.getDevice(deviceId))?.vin ?? '',
      kind: payload.kind,
      startTime: payload.start,
      endTime: Math.max(payload.start, ...times, ...payload.events.map((e) => e.end)),
      receivedAt,
      samples,
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
      logEntry,
      leafHash: leafHash(logEntry),
    });
    this.o.onAccepted?.({
      deviceId,
      seq: payload.seq,
      hash,
      leafIndex,
      receivedAt,
      kind: payload.kind,
    });
    return { status: 'accepted', seq: payload.seq, leafIndex, flags: [] };
  }

  /** Moves the chain forward through held batches and declared drops as far as it can. */
  private async drain(deviceId: string): Promise<void> {
    const store = this.o.store;
    for (;;) {
      const device = await store.getDevice(deviceId);
      if (!device) return;
      const next = device.nextSeq;
      const held = (await store.heldBatches(deviceId)).find((h) => h.seq === next);
      if (held) {
        const decoded = decodeBatch(held.bytes);
        if (!decoded.ok) {
          await store.removeHeld(deviceId, next);
          continue;
        }
        const outcome = await this.acceptInOrder(
          deviceId,
          held.bytes,
          held.hash,
          decoded.value.payload,
          held.receivedAt,
          device.headHash,
        );
        if (outcome.status !== 'accepted') await store.removeHeld(deviceId, next);
        if (outcome.status === 'accepted') continue;
        return;
      }
      const drop = await store.declaredDrop(deviceId, next);
      if (!drop) return;
      await store.skipDeclaredDrop(deviceId, next);
    }
  }

  private async missingSeqs(deviceId: string): Promise<number[]> {
    const device = await this.o.store.getDevice(deviceId);
    const held = await this.o.store.heldBatches(deviceId);
    if (!device || held.length === 0) return [];
    const have = new Set(held.map((h) => h.seq));
    const last = Math.max(...have);
    const out: number[] = [];
    for (let s = device.nextSeq; s < last && out.length < 256; s++) if (!have.has(s)) out.push(s);
    return out;
  }

  private requestResend(deviceId: string, seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const now = this.o.now();
    if (now - (this.lastResend.get(deviceId) ?? -Infinity) < this.o.resendIntervalMs) return;
    this.lastResend.set(deviceId, now);
    this.o.onResendNeeded?.(deviceId, seqs);
  }

  private async quarantine(
    deviceId: string,
    seq: number,
    hash: Uint8Array,
    bytes: Uint8Array,
    receivedAt: number,
    code: 'fork' | 'bad-prev',
  ): Promise<IngestOutcome> {
    await this.o.store.quarantine({ deviceId, seq, hash, bytes, reason: code, receivedAt });
    await this.o.store.recordRejection({ at: receivedAt, deviceId, code, detail: `seq ${seq}` });
    this.o.onRejection?.(code, { deviceId, seq, message: `seq ${seq} quarantined: ${code}` });
    return { status: 'quarantined', seq, code };
  }

  private async reject(
    deviceId: string,
    code: string,
    message: string,
    seq?: number,
  ): Promise<IngestOutcome> {
    await this.o.store.recordRejection({ at: this.o.now(), deviceId, code, detail: message });
    this.o.onRejection?.(code, { deviceId, ...(seq === undefined ? {} : { seq }), message });
    return { status: 'rejected', code, message };
  }

  private serialised<T>(deviceId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(deviceId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(deviceId, settled);
    void settled.then(() => {
      if (this.locks.get(deviceId) === settled) this.locks.delete(deviceId);
    });
    return run;
  }
}
