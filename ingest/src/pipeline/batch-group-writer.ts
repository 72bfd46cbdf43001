import type {
  ColumnarAcceptedBatch,
  GroupAcceptResult,
  IngestStore,
} from '../storage/ingest-store.js';

export interface BatchGroupWriterOptions {
  readonly store: IngestStore;
  /** Commit as soon as this many batches wait. */
  readonly maxBatches?: number;
  /** … or this long after the first of them arrived (ms). */
  readonly maxDelayMs?: number;
  /** After each commit: how many batches, how long the transaction took (ms). */
  readonly onCommit?: (batches: number, ms: number) => void;
}

/**
 * Group commit: verified batches are collected for a few milliseconds (or up to a count) and
 * stored in one transaction (`IngestStore.acceptBatches`), each batch in its own savepoint.
 * One commit per group instead of per batch is what lets a node keep up with thousands of
 * batches a second. Nothing is acknowledged before its group committed: the promise `add`
 * returns settles only then, and receipts need a later checkpoint besides, so a crash while
 * batches wait here loses only batches nobody was told about (the devices send them again).
 * Groups commit one after another, in the order batches were added.
 */
export class BatchGroupWriter {
  private readonly store: IngestStore;
  private readonly maxBatches: number;
  private readonly maxDelayMs: number;
  private readonly onCommit: ((batches: number, ms: number) => void) | undefined;
  private collecting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> = Promise.resolve();

  constructor(options: BatchGroupWriterOptions) {
    const { maxBatches = 256, maxDelayMs = 4 } = options;
    if (!(Number.isSafeInteger(maxBatches) && maxBatches >= 1))
      throw new RangeError(`maxBatches: expected an integer ≥ 1, got ${maxBatches}`);
    if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= 0))
      throw new RangeError(`maxDelayMs: expected a number of ms ≥ 0, got ${maxDelayMs}`);
    this.store = options.store;
    this.maxBatches = maxBatches;
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
  add(batch: ColumnarAcceptedBatch): Promise<GroupAcceptResult> {
    return new Promise((resolve, reject) => {
      this.collecting.push({ batch, resolve, reject });
      if (this.collecting.length >= this.maxBatches) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

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
  readonly batch: ColumnarAcceptedBatch;
  readonly resolve: (r: GroupAcceptResult) => void;
  readonly reject: (err: unknown) => void;
}

const missing = (i: number): GroupAcceptResult => ({
  ok: false,
  error: new Error(`the store returned no result for batch ${i} of its group`),
});
