import { MAX_BATCH_BYTES, ZERO_HASH, decodeBatch } from '@enginechain/shared';
import {
  StoreError,
  type DeviceKeyPeriod,
  type DeviceRecord,
  type GroupAcceptResult,
  type IngestStore,
} from '../storage/ingest-store.js';
import { BatchGroupWriter, type BatchGroupWriterOptions } from './batch-group-writer.js';
import type { IngestRejectionCode } from './rejections.js';
import { Fifo } from './fifo.js';
import type { VerifierPool } from './verifier-pool.js';
import {
  toAcceptedBatch,
  toVerifiedBatch,
  type VerifiedBatch,
  type VerifyResult,
} from './verified-batch.js';

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
  /** Where signatures are checked (worker threads); only `verify` is used. */
  readonly pool: Pick<VerifierPool, 'verify'>;
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
  /** Group commit: when a group of accepted batches is stored (see BatchGroupWriterOptions). */
  readonly groupCommit?: Pick<BatchGroupWriterOptions, 'maxBatches' | 'idleMs' | 'maxDelayMs'>;
  /** After each group commit (metrics): batches in it and the transaction's duration. */
  readonly onGroupCommit?: (batches: number, ms: number) => void;
}

const MAX_CACHED_DEVICES = 100_000;

const withFlags = (o: IngestOutcome, flags: IngestRejectionCode[]): IngestOutcome =>
  o.status === 'accepted' ? { ...o, flags } : o;

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * One device's chain as the pipeline sees it: the head after every batch handed to the group
 * writer, committed or not, so the device's next batch is sequenced without waiting for the
 * commit. The store stays the authority: it checks each seq again inside the transaction, and
 * when a commit fails the chain is marked stale and read back from the store.
 */
interface DeviceChain {
  nextSeq: number;
  headHash: Uint8Array;
  readonly vin: string;
  /** Handed to the writer, not yet committed, by seq. */
  readonly inFlight: Map<number, Promise<GroupAcceptResult>>;
  /** Seqs waiting in held_batches. */
  readonly held: Set<number>;
  /** Declared drops at or ahead of the head (first declaration wins, as in the store). */
  readonly drops: Map<number, Uint8Array>;
  stale: boolean;
}

/** What `check` found: an outcome already, or a verified batch for sequencing. */
type Checked =
  | { outcome: IngestOutcome }
  | { batch: VerifiedBatch; flags: IngestRejectionCode[]; signedBy: Uint8Array };

/** A batch handed to `ingest`, waiting for its checks and for its device's earlier batches. */
interface Arrival {
  readonly bytes: Uint8Array;
  /** Set once its checks settled: what they found, or why they failed. */
  checked:
    | { readonly ok: true; readonly value: Checked }
    | { readonly ok: false; readonly error: unknown }
    | undefined;
  readonly resolve: (outcome: IngestOutcome | Promise<IngestOutcome>) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * One device's batches in arrival order, from the first not yet sequenced. A plain queue, not
 * a chain of promises: while thousands of batches wait for a verifier, every object each one
 * holds is heap the garbage collector copies and marks.
 */
interface ArrivalQueue {
  /** Not yet sequenced, oldest first (a sequenced arrival holds its verified batch). */
  readonly arrivals: Fifo<Arrival>;
  /** One of the device's batches is being sequenced (`sequence` may wait on the store). */
  sequencing: boolean;
}

/** What sequencing decided; `outcome` settles later (after the group commit when accepted). */
interface Decision {
  readonly outcome: Promise<IngestOutcome>;
}

const decided = (outcome: IngestOutcome | Promise<IngestOutcome>): Decision => ({
  outcome: Promise.resolve(outcome),
});

/**
 * The verification pipeline (issue 6): size → COSE structure → algorithm → kid registered and
 * active → signature (in worker threads) → VIN → sequence. What passes is stored with its
 * samples, events and log leaf in one transaction shared with the other batches of its group
 * (group commit); every refusal has a code and never touches what was accepted. Sequencing is
 * serialised per device in arrival order; devices proceed independently. An `accepted`
 * outcome, and `onAccepted`, come only after the batch's group committed.
 */
export class BatchIngestor {
  private readonly o: Required<
    Omit<
      BatchIngestorOptions,
      'onAccepted' | 'onDuplicate' | 'onResendNeeded' | 'onRejection' | 'onGroupCommit'
    >
  > &
    BatchIngestorOptions;
  private readonly arrivals = new Map<string, ArrivalQueue>();
  private readonly lastResend = new Map<string, number>();
  private readonly chains = new Map<string, DeviceChain>();
  /**
   * Active devices already seen: their VIN never changes, and the store checks the status and
   * the key for the batch's seq again inside the transaction that would store a batch, so a
   * revocation or a key rotation is never missed; the entry goes when the store reports either,
   * or when no key it holds verifies a batch (it is then read again).
   */
  private readonly activeDevices = new Map<string, Promise<DeviceRecord | undefined>>();
  private readonly writer: BatchGroupWriter;

  constructor(options: BatchIngestorOptions) {
    this.o = {
      now: Date.now,
      maxAheadSeqs: 10_000,
      futureToleranceMs: 5 * 60_000,
      resendIntervalMs: 5_000,
      groupCommit: {},
      ...options,
    };
    this.writer = new BatchGroupWriter({
      store: this.o.store,
      ...this.o.groupCommit,
      ...(options.onGroupCommit ? { onCommit: options.onGroupCommit } : {}),
    });
  }

  /**
   * Takes one batch as it arrived on `topicDeviceId`'s topic. Verification starts at once and
   * overlaps with other batches; sequencing keeps each device's arrival order.
   */
  ingest(topicDeviceId: string, bytes: Uint8Array): Promise<IngestOutcome> {
    const receivedAt = this.o.now();
    let queue = this.arrivals.get(topicDeviceId);
    if (!queue) {
      queue = { arrivals: new Fifo(), sequencing: false };
      this.arrivals.set(topicDeviceId, queue);
    }
    const q = queue;
    return new Promise<IngestOutcome>((resolve, reject) => {
      const arrival: Arrival = { bytes, checked: undefined, resolve, reject };
      q.arrivals.push(arrival);
      this.check(topicDeviceId, bytes, receivedAt).then(
        (value) => {
          arrival.checked = { ok: true, value };
          this.sequenceArrivals(topicDeviceId, q);
        },
        (error: unknown) => {
          arrival.checked = { ok: false, error };
          this.sequenceArrivals(topicDeviceId, q);
        },
      );
    });
  }

  /**
   * Sequences the device's batches whose checks settled, in arrival order, one at a time:
   * each after every earlier one of the device was sequenced (or failed).
   */
  private sequenceArrivals(deviceId: string, q: ArrivalQueue): void {
    for (let arrival = q.arrivals.peek(); !q.sequencing && arrival; arrival = q.arrivals.peek()) {
      const checked = arrival.checked;
      if (!checked) break;
      q.arrivals.shift();
      if (!checked.ok) {
        arrival.reject(checked.error);
        continue;
      }
      const c = checked.value;
      if ('outcome' in c) {
        arrival.resolve(c.outcome);
        continue;
      }
      q.sequencing = true;
      this.sequence(deviceId, arrival.bytes, c.batch, c.flags, c.signedBy).then(
        (d) => {
          q.sequencing = false;
          arrival.resolve(d.outcome);
          this.sequenceArrivals(deviceId, q);
        },
        (err: unknown) => {
          q.sequencing = false;
          arrival.reject(err);
          this.sequenceArrivals(deviceId, q);
        },
      );
    }
    if (q.arrivals.size === 0 && !q.sequencing && this.arrivals.get(deviceId) === q)
      this.arrivals.delete(deviceId);
  }

  /** Commits what waits for a group now; resolves when every batch handed over is stored. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Batches sequenced and waiting for their group's commit (a queue depth for metrics). */
  get waitingForCommit(): number {
    return this.writer.waiting;
  }

  /** Everything that needs no chain state: size, device, signature (in a worker), VIN, time. */
  private check(topicDeviceId: string, bytes: Uint8Array, receivedAt: number): Promise<Checked> {
    if (bytes.length > MAX_BATCH_BYTES) {
      return this.refuse(
        topicDeviceId,
        'too-large',
        `${bytes.length} bytes exceed ${MAX_BATCH_BYTES}`,
      );
    }
    // Callbacks rather than an async function: while thousands of batches wait for a
    // verifier, each suspended frame (every local and temporary) is heap the garbage collector
    // copies and marks; a callback keeps only what it uses.
    return this.deviceOf(topicDeviceId).then((device): Checked | Promise<Checked> => {
      if (!device)
        return this.refuse(topicDeviceId, 'unknown-device', `no device ${topicDeviceId}`);
      if (device.status !== 'active') {
        return this.refuse(
          topicDeviceId,
          'revoked-device',
          `device ${topicDeviceId} is ${device.status}`,
        );
      }
      // The current key first; the others only when its signature fails.
      const current = device.keys[device.keys.length - 1]!;
      return this.o.pool
        .verify(bytes, current.publicKey, receivedAt, device.deviceId)
        .then((first) =>
          first.ok || first.code !== 'bad-signature'
            ? this.checkVerified(topicDeviceId, device, receivedAt, first, current, undefined)
            : this.verifyWithKeys(bytes, device, receivedAt, first).then((v) =>
                this.checkVerified(topicDeviceId, device, receivedAt, v.verdict, v.period, v.next),
              ),
        );
    });
  }

  private refuse(deviceId: string, code: string, message: string): Promise<Checked> {
    return this.reject(deviceId, code, message).then((outcome) => ({ outcome }));
  }

  /** The checks after the signature: key period for the seq, VIN, time. */
  private async checkVerified(
    topicDeviceId: string,
    device: DeviceRecord,
    receivedAt: number,
    verdict: VerifyResult,
    period: DeviceKeyPeriod,
    next: DeviceKeyPeriod | undefined,
  ): Promise<Checked> {
    if (!verdict.ok) {
      const code = verdict.code === 'bad-kid' ? 'topic-mismatch' : verdict.code;
      return { outcome: await this.reject(topicDeviceId, code, verdict.message) };
    }
    const batch = verdict.batch;
    if (batch.seq < period.fromSeq || (next !== undefined && batch.seq >= next.fromSeq)) {
      const valid =
        next === undefined
          ? `from seq ${period.fromSeq}`
          : `for seqs ${period.fromSeq} to ${next.fromSeq - 1}`;
      return {
        outcome: await this.reject(
          topicDeviceId,
          'wrong-key-for-seq',
          `batch ${batch.seq} is signed with the device's key valid ${valid}`,
          batch.seq,
        ),
      };
    }
    if (batch.vin !== null && batch.vin !== device.vin) {
      return {
        outcome: await this.reject(
          topicDeviceId,
          'vin-mismatch',
          `batch VIN ${batch.vin} is not ${device.vin}`,
          batch.seq,
        ),
      };
    }
    const flags: IngestRejectionCode[] = [];
    if (batch.start > receivedAt + this.o.futureToleranceMs) {
      flags.push('future-timestamp');
      this.o.onRejection?.('future-timestamp', {
        deviceId: topicDeviceId,
        seq: batch.seq,
        message: `starts ${Math.round((batch.start - receivedAt) / 1000)} s in the future`,
      });
    }
    return { batch, flags, signedBy: period.publicKey };
  }

  /**
   * Verifies with the device's current key (unless `current` is already its verdict) and, when
   * that signature fails, with its earlier keys (a batch signed before a rotation may arrive
   * after it), newest first. When no known key verifies, the device is read again once: the
   * cache may predate a rotation.
   */
  private async verifyWithKeys(
    bytes: Uint8Array,
    device: DeviceRecord,
    receivedAt: number,
    current?: VerifyResult,
    reread = true,
  ): Promise<{
    verdict: VerifyResult;
    period: DeviceKeyPeriod;
    next: DeviceKeyPeriod | undefined;
  }> {
    const keys = device.keys;
    let i = keys.length - 1;
    const first =
      current ?? (await this.o.pool.verify(bytes, keys[i]!.publicKey, receivedAt, device.deviceId));
    if (first.ok || first.code !== 'bad-signature')
      return { verdict: first, period: keys[i]!, next: undefined };
    for (i = keys.length - 2; i >= 0; i--) {
      const v = await this.o.pool.verify(bytes, keys[i]!.publicKey, receivedAt, device.deviceId);
      if (v.ok) return { verdict: v, period: keys[i]!, next: keys[i + 1] };
    }
    if (reread) {
      this.activeDevices.delete(device.deviceId);
      const fresh = await this.deviceOf(device.deviceId);
      if (fresh?.status === 'active' && fresh.keys.length > keys.length)
        return this.verifyWithKeys(bytes, fresh, receivedAt, undefined, false);
    }
    return { verdict: first, period: keys[keys.length - 1]!, next: undefined };
  }

  /** The device, from the cache of active ones (a lookup in flight counts: bursts share it). */
  private deviceOf(deviceId: string): Promise<DeviceRecord | undefined> {
    const known = this.activeDevices.get(deviceId);
    if (known) return known;
    // Bounded by the registered devices; cleared rather than evicted one by one, for brevity.
    if (this.activeDevices.size >= MAX_CACHED_DEVICES) this.activeDevices.clear();
    const lookup = this.o.store.getDevice(deviceId);
    this.activeDevices.set(deviceId, lookup);
    const forget = () => {
      if (this.activeDevices.get(deviceId) === lookup) this.activeDevices.delete(deviceId);
    };
    lookup.then((d) => {
      if (d?.status !== 'active') forget();
    }, forget);
    return lookup;
  }

  /** The device's chain, read from the store on first use and again after a failed commit. */
  private async chainOf(deviceId: string): Promise<DeviceChain | undefined> {
    const known = this.chains.get(deviceId);
    if (known && !known.stale) return known;
    if (known) await Promise.allSettled(known.inFlight.values());
    this.chains.delete(deviceId);
    const store = this.o.store;
    const device = await store.getDevice(deviceId);
    if (!device) return undefined;
    const held = await store.heldBatches(deviceId);
    const drops = await store.declaredDropsFrom(deviceId, device.nextSeq);
    const chain: DeviceChain = {
      nextSeq: device.nextSeq,
      headHash: device.headHash,
      vin: device.vin,
      inFlight: new Map(),
      held: new Set(held.map((h) => h.seq)),
      drops: new Map(drops.map((d) => [d.seq, d.hash])),
      stale: false,
    };
    this.chains.set(deviceId, chain);
    return chain;
  }

  private async sequence(
    deviceId: string,
    bytes: Uint8Array,
    batch: VerifiedBatch,
    flags: IngestRejectionCode[],
    signedBy?: Uint8Array,
  ): Promise<Decision> {
    const store = this.o.store;
    const known = this.chains.get(deviceId);
    // The chain in memory when it is current, without an await (this runs for every batch).
    const chain = known && !known.stale ? known : await this.chainOf(deviceId);
    if (!chain)
      return decided(this.reject(deviceId, 'unknown-device', `device ${deviceId} vanished`));
    const seq = batch.seq;
    const hash = batch.hash;
    const receivedAt = batch.receivedAt;

    if (seq < chain.nextSeq) {
      // The first copy may still wait for its group: its row exists only after the commit.
      const first = chain.inFlight.get(seq);
      if (first) await first.catch(() => undefined);
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
        return decided({ status: 'duplicate', seq, leafIndex: existing.leafIndex });
      }
      if (!existing && chain.stale) {
        // Its first copy failed to commit: the chain is read again and this copy retried.
        return this.sequence(deviceId, bytes, batch, flags, signedBy);
      }
      return decided(this.quarantine(deviceId, seq, hash, bytes, receivedAt, 'fork'));
    }

    if (seq > chain.nextSeq) {
      if (seq - chain.nextSeq > this.o.maxAheadSeqs) {
        const ahead = seq - chain.nextSeq;
        const msg = `seq ${seq} is ${ahead} ahead of ${chain.nextSeq}`;
        return decided(this.reject(deviceId, 'seq-too-far', msg, seq));
      }
      if (chain.held.has(seq)) {
        const held = (await store.heldBatches(deviceId)).find((h) => h.seq === seq);
        if (held && !eq(held.hash, hash))
          return decided(this.quarantine(deviceId, seq, hash, bytes, receivedAt, 'fork'));
      }
      await store.holdBatch({ deviceId, seq, hash, bytes, receivedAt });
      chain.held.add(seq);
      if (batch.declaredDrops.length > 0) {
        await store.recordDeclaredDrops(deviceId, seq, batch.declaredDrops);
        this.noteDrops(chain, batch.declaredDrops);
      }
      const drained = await this.drain(deviceId, chain);
      const mine = drained.get(seq);
      if (mine) return { outcome: mine.then((o) => withFlags(o, flags)) };
      const missing = this.missingSeqs(chain);
      this.requestResend(deviceId, missing);
      return decided({ status: 'held', seq, missing });
    }

    const queued = this.acceptInOrder(deviceId, chain, bytes, batch, false, signedBy);
    if (!queued) {
      return decided(this.quarantine(deviceId, seq, hash, bytes, receivedAt, 'bad-prev'));
    }
    if (chain.held.size > 0 || chain.drops.size > 0) {
      // Batches of the drain already reported `held`; their failures surface on resend.
      for (const p of (await this.drain(deviceId, chain)).values()) p.catch(() => undefined);
    }
    // Without flags the outcome is already final: no promise and object more per batch.
    return { outcome: flags.length === 0 ? queued : queued.then((o) => withFlags(o, flags)) };
  }

  /**
   * Hands seq == nextSeq to the group writer when its prev chains onto the head and moves the
   * head at once; undefined (nothing queued) when prev does not chain. The promise settles
   * after the commit: `accepted` with the leaf index, `rejected` when the store found the
   * device revoked by then, or the store's error.
   */
  private acceptInOrder(
    deviceId: string,
    chain: DeviceChain,
    bytes: Uint8Array,
    batch: VerifiedBatch,
    wasHeld: boolean,
    signedBy?: Uint8Array,
  ): Promise<IngestOutcome> | undefined {
    const seq = batch.seq;
    const expectedPrev = seq === 0 ? ZERO_HASH : chain.headHash;
    if (!eq(batch.prev, expectedPrev)) return undefined;
    const committed = this.writer.add(toAcceptedBatch(batch, bytes, chain.vin, wasHeld, signedBy));
    chain.inFlight.set(seq, committed);
    chain.nextSeq = seq + 1;
    chain.headHash = batch.hash;
    if (wasHeld) chain.held.delete(seq);
    chain.drops.delete(seq);
    if (batch.declaredDrops.length > 0) this.noteDrops(chain, batch.declaredDrops);
    const done = () => {
      if (chain.inFlight.get(seq) === committed) chain.inFlight.delete(seq);
    };
    // A plain callback, not an async one: then() adopts the promise a refusal returns, and
    // accepted batches (nearly all) skip an async function's promise.
    return committed.then(
      (r): IngestOutcome | Promise<IngestOutcome> => {
        done();
        if (!r.ok) {
          chain.stale = true;
          if (r.error instanceof StoreError && r.error.code === 'revoked') {
            this.activeDevices.delete(deviceId);
            return this.reject(deviceId, 'revoked-device', r.error.message, seq);
          }
          if (r.error instanceof StoreError && r.error.code === 'key-rotated') {
            // Verified with a key the cache held before a rotation that committed since.
            this.activeDevices.delete(deviceId);
            return this.reject(deviceId, 'wrong-key-for-seq', r.error.message, seq);
          }
          throw r.error;
        }
        this.o.onAccepted?.({
          deviceId,
          seq,
          hash: batch.hash,
          leafIndex: r.leafIndex,
          receivedAt: batch.receivedAt,
          kind: batch.kind,
        });
        return { status: 'accepted' as const, seq, leafIndex: r.leafIndex, flags: [] };
      },
      (err: unknown) => {
        done();
        chain.stale = true;
        throw err;
      },
    );
  }

  /** Remembers drops at or ahead of the head; the store keeps the first declaration of a seq. */
  private noteDrops(chain: DeviceChain, drops: VerifiedBatch['declaredDrops']): void {
    for (const d of drops) {
      if (d.seq >= chain.nextSeq && !chain.drops.has(d.seq)) chain.drops.set(d.seq, d.hash);
    }
  }

  /**
   * Moves the chain forward through held batches and declared drops as far as it can. Returns
   * the commit outcome of each held batch it queued, by seq.
   */
  private async drain(
    deviceId: string,
    chain: DeviceChain,
  ): Promise<Map<number, Promise<IngestOutcome>>> {
    const store = this.o.store;
    const queued = new Map<number, Promise<IngestOutcome>>();
    for (;;) {
      const next = chain.nextSeq;
      if (chain.held.has(next)) {
        const held = (await store.heldBatches(deviceId)).find((h) => h.seq === next);
        const decoded = held ? decodeBatch(held.bytes) : undefined;
        if (!held || !decoded?.ok) {
          await store.removeHeld(deviceId, next);
          chain.held.delete(next);
          continue;
        }
        const batch = toVerifiedBatch(
          decoded.value.payload,
          held.bytes,
          held.receivedAt,
          held.hash,
        );
        const outcome = this.acceptInOrder(deviceId, chain, held.bytes, batch, true);
        if (!outcome) {
          await this.quarantine(deviceId, next, held.hash, held.bytes, held.receivedAt, 'bad-prev');
          await store.removeHeld(deviceId, next);
          chain.held.delete(next);
          break;
        }
        queued.set(next, outcome);
        continue;
      }
      const dropHash = chain.drops.get(next);
      if (dropHash === undefined) break;
      // The store moves its head over the drop only once every batch before it is stored.
      await this.writer.flush();
      if (chain.stale) break;
      await store.skipDeclaredDrop(deviceId, next);
      chain.drops.delete(next);
      chain.nextSeq = next + 1;
      chain.headHash = dropHash;
    }
    for (const seq of chain.drops.keys()) if (seq < chain.nextSeq) chain.drops.delete(seq);
    return queued;
  }

  private missingSeqs(chain: DeviceChain): number[] {
    if (chain.held.size === 0) return [];
    const last = Math.max(...chain.held);
    const out: number[] = [];
    for (let s = chain.nextSeq; s < last && out.length < 256; s++)
      if (!chain.held.has(s)) out.push(s);
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
}
