import type { AcceptedBatch, GroupAcceptResult, IngestStore } from '../storage/ingest-store.js';

export interface BatchGroupWriterOptions {
  readonly store: IngestStore;
  /** Commit as soon as this many batches wait (default 512). */
  readonly maxBatches?: number;
  /** … or when no batch was added for this long (ms, default 2): the stream paused … */
  readonly idleMs?: number;
  /** … or this long after the first of them arrived, however busy the stream (ms, default 25). */
  readonly maxDelayMs?: number;
  /** After each commit: how many batches, how long the transaction took (ms). */
  readonly onCommit?: (batches: number, ms: number) => void;
}

/**
 * Group commit: verified batches are collected and stored in one transaction
 * (`IngestStore.acceptBatches`); a batch that fails is rolled back alone. A group closes when
 * the stream pauses (`idleMs`), so a lone batch waits about 2 ms, or at the latest
 * `maxDelayMs` after its first batch, so under load groups hold tens to hundreds of batches:
 * per batch, a group of 128 costs the main thread about a third of a group of 8 (fewer
 * commits and chain-head updates, index pages written once). Nothing is acknowledged before
 * its group committed: the promise `add` returns settles only then, and receipts need a later
 * signed checkpoint besides, so a crash while batches wait here loses only batches nobody was
 * told about (the devices send them again). Groups commit one after another, in the order
 * batches were added.
 */
export class BatchGroupWriter {
  private readonly store: IngestStore;
  private readonly maxBatches: number;
  private readonly idleMs: number;
  private readonly maxDelayMs: number;
  private readonly onCommit: ((batches: number, ms: number) => void) | undefined;
  private collecting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private firstAt = 0;
  private lastAt = 0;
  private committing: Promise<void> = Promise.resolve();

  constructor(options: BatchGroupWriterOptions) {
    const { maxBatches = 512, idleMs = 2, maxDelayMs = 25 } = options;
    if (!(Number.isSafeInteger(maxBatches) && maxBatches >= 1))
      throw new RangeError(`maxBatches: expected an integer ≥ 1, got ${maxBatches}`);
    if (!(Number.isFinite(idleMs) && idleMs >= 0))
      throw new RangeError(`idleMs: expected a number of ms ≥ 0, got ${idleMs}`);
    if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= 0))
      throw new RangeError(`maxDelayMs: expected a number of ms ≥ 0, got ${maxDelayMs}`);
    this.store = options.store;
    this.maxBatches = maxBatches;
    this.idleMs = idleMs;
    this.maxDelayMs = maxDelayMs;
    this.onCommit = options.onCommit;
  }

  /** Batches collected and not yet handed to the store. */
  get waiting(): number {
    return this.collecting.length;
  }

  /**
   * Queues one batch for the next group. Resolves once its group committed: with its leaf
   * index, or with the error that rolled back this batch alone. Rejects when the whole
   * transaction failed (nothing of the group was stored).
   */
  add(batch: AcceptedBatch): Promise<GroupAcceptResult> {
    return new Promise((resolve, reject) => {
      this.collecting.push({ batch, resolve, reject });
      this.lastAt = performance.now();
      if (this.collecting.length >= this.maxBatches) void this.flush();
      else if (!this.timer) {
        this.firstAt = this.lastAt;
        this.timer = setTimeout(this.onTimer, Math.min(this.idleMs, this.maxDelayMs));
      }
    });
  }

  /** One timer per group, moved on rather than reset on every add (adds are the hot path). */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    const due = Math.min(this.lastAt + this.idleMs, this.firstAt + this.maxDelayMs);
    const wait = due - performance.now();
    if (wait > 0.5) this.timer = setTimeout(this.onTimer, wait);
    else void this.flush();
  };

  /** Commits what was collected now; resolves when every group so far has committed. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.collecting;
    this.collecting = [];
    if (group.length > 0) {
      this.committing = this.committing.then(async () => {
        const t0 = performance.now();
        let results: GroupAcceptResult[];
        try {
          results = await this.store.acceptBatches(group.map((w) => w.batch));
        } catch (err) {
          for (const w of group) w.reject(err);
          return;
        }
        this.onCommit?.(group.length, performance.now() - t0);
        group.forEach((w, i) => w.resolve(results[i] ?? missing(i)));
      });
    }
    return this.committing;
  }
}

interface Waiting {
  readonly batch: AcceptedBatch;
  readonly resolve: (r: GroupAcceptResult) => void;
  readonly reject: (err: unknown) => void;
}

const missing = (i: number): GroupAcceptResult => ({
  ok: false,
  error: new Error(`the store returned no result for batch ${i} of its group`),
});
