import type { Reading } from './types.js';

type Waiter = {
  resolve: (r: IteratorResult<Reading>) => void;
  reject: (err: unknown) => void;
};

/**
 * The push-to-pull bridge every source uses: the device side `push`es readings as they are
 * decoded, consumers pull with `for await`. Unbounded on purpose only up to `limit`: a consumer
 * that stalls must not make a gateway run out of memory, so the oldest readings are dropped and
 * counted (the agent reports `dropped`).
 */
export class ReadingQueue implements AsyncIterable<Reading> {
  private readonly buffer: Reading[] = [];
  private readonly waiters: Waiter[] = [];
  private ended = false;
  private failure: unknown = undefined;
  /** Readings discarded because nobody consumed them before `limit` was reached. */
  dropped = 0;

  constructor(private readonly limit = 100_000) {}

  /** Readings waiting for a consumer. */
  get size(): number {
    return this.buffer.length;
  }

  push(reading: Reading): void {
    if (this.ended || this.failure !== undefined) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ value: reading, done: false });
      return;
    }
    if (this.buffer.length >= this.limit) {
      this.buffer.shift();
      this.dropped++;
    }
    this.buffer.push(reading);
  }

  /**
   * Ends the stream. By default buffered readings are still delivered, then `done` (a replay
   * that reached the end of its file); `discard` drops them (a source that was closed).
   */
  end(options: { discard?: boolean } = {}): void {
    this.ended = true;
    if (options.discard) this.buffer.length = 0;
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  /** Fails the stream (e.g. `DisconnectedError`): pending and later reads reject with `err`. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<Reading>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Reading> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
