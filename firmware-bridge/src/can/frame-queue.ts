import type { CanFrame } from './frame.js';

type Waiter = {
  resolve: (r: IteratorResult<CanFrame>) => void;
  reject: (err: unknown) => void;
};

/**
 * The push-to-pull bridge for frame producers, with the same contract as `ReadingQueue`
 * (firmware-bridge/src/source): bounded, oldest dropped and counted, `end()` delivers what is
 * buffered then `done`, `fail()` rejects pending and later reads.
 */
export class FrameQueue implements AsyncIterable<CanFrame> {
  private readonly buffer: CanFrame[] = [];
  private head = 0;
  private readonly waiters: Waiter[] = [];
  private spaceWaiters: { below: number; resolve: () => void }[] = [];
  private ended = false;
  private failure: unknown = undefined;
  /** Frames discarded because nobody consumed them before `limit` was reached. */
  dropped = 0;

  constructor(private readonly limit = 100_000) {}

  get length(): number {
    return this.buffer.length - this.head;
  }

  push(frame: CanFrame): void {
    if (this.ended || this.failure !== undefined) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ value: frame, done: false });
      return;
    }
    if (this.length >= this.limit) {
      this.head++;
      this.dropped++;
    }
    this.buffer.push(frame);
  }

  /** Resolves once fewer than `below` frames are buffered or the queue ended (producer pacing). */
  waitForSpace(below: number): Promise<void> {
    if (this.length < below || this.ended || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push({ below, resolve }));
  }

  private wakeProducers(): void {
    if (this.spaceWaiters.length === 0) return;
    const stillWaiting = [];
    for (const w of this.spaceWaiters) {
      if (this.length < w.below || this.ended || this.failure !== undefined) w.resolve();
      else stillWaiting.push(w);
    }
    this.spaceWaiters = stillWaiting;
  }

  end(): void {
    this.ended = true;
    this.wakeProducers();
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.wakeProducers();
  }

  /** Drops everything buffered (a closing source discards what nobody read). */
  clear(): void {
    this.buffer.length = 0;
    this.head = 0;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<CanFrame>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head++] as CanFrame;
      // Compact now and then so a long-running queue does not grow its backing array forever.
      if (this.head > 1024 && this.head * 2 > this.buffer.length) {
        this.buffer.splice(0, this.head);
        this.head = 0;
      }
      this.wakeProducers();
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<CanFrame> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
