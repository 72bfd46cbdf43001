import { Fifo } from './fifo.js';

/**
 * How much the node holds between receiving batches and settling them (verify, sequence,
 * commit), at most: a number of batches and a number of bytes, whichever is reached first. The
 * count bounds the objects per batch; the bytes bound the payloads, which range from under a
 * kilobyte to MAX_BATCH_BYTES (8,192 batches of 256 KiB would be 2 GiB). Past a limit a batch
 * waits here, and the transport stops reading its sender until it is admitted: the embedded
 * broker (aedes) reads a connection again only once the packets of its last read are taken, so
 * TCP slows the device down; mqtt.js, consuming from an external broker, holds the PUBACK and
 * the next message, and the broker keeps the rest queued. A node that receives faster than it
 * verifies (thousands of devices flushing their outboxes after an outage, or a flood) then
 * slows its senders down instead of queueing without bound until memory runs out: what waits
 * is at most one read per connection. Nothing is lost: a batch the node has not settled is not
 * receipted, and the device keeps it in its outbox until it is.
 */
export class PipelineAdmission {
  private admitted = 0;
  private admittedBytes = 0;
  private readonly queue = new Fifo<Waiting>();
  private idleWaiters: (() => void)[] = [];

  /**
   * `limit`: batches at most; `byteLimit`: their bytes at most. A batch larger than
   * `byteLimit` is admitted once the pipeline is empty, so it waits but is never refused here.
   */
  constructor(
    readonly limit: number,
    readonly byteLimit: number = Number.MAX_SAFE_INTEGER,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit: expected an integer ≥ 1, got ${limit}`);
    if (!Number.isSafeInteger(byteLimit) || byteLimit < 1)
      throw new RangeError(`byteLimit: expected an integer ≥ 1, got ${byteLimit}`);
  }

  /** Batches admitted and not yet settled. */
  get inPipeline(): number {
    return this.admitted;
  }

  /** Bytes of the batches admitted and not yet settled. */
  get bytesInPipeline(): number {
    return this.admittedBytes;
  }

  /** Batches waiting to be admitted. */
  get waiting(): number {
    return this.queue.size;
  }

  /** Resolves once nothing is admitted and nothing waits (at once when that is already so). */
  whenIdle(): Promise<void> {
    if (this.admitted === 0 && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves when the caller may hand one batch of `bytes` bytes to the pipeline, in the
   * order asked; the caller then owes one `release(bytes)` with the same size.
   */
  admit(bytes: number): Promise<void> {
    checkSize(bytes);
    if (this.waiting === 0 && this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ bytes, resolve }));
  }

  /**
   * One admitted batch of `bytes` bytes settled: the longest waiting ones are admitted in its
   * place, as many as now fit, in order.
   */
  release(bytes: number): void {
    checkSize(bytes);
    if (this.admitted === 0) throw new Error('release without an admitted batch');
    if (bytes > this.admittedBytes)
      throw new Error(`release of ${bytes} bytes, more than the ${this.admittedBytes} admitted`);
    this.admitted--;
    this.admittedBytes -= bytes;
    for (let next = this.queue.peek(); next && this.fits(next.bytes); next = this.queue.peek()) {
      this.queue.shift();
      this.take(next.bytes);
      next.resolve();
    }
    if (this.admitted === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private fits(bytes: number): boolean {
    return (
      this.admitted < this.limit &&
      (this.admitted === 0 || this.admittedBytes + bytes <= this.byteLimit)
    );
  }

  private take(bytes: number): void {
    this.admitted++;
    this.admittedBytes += bytes;
  }
}

interface Waiting {
  readonly bytes: number;
  readonly resolve: () => void;
}

function checkSize(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0)
    throw new RangeError(`bytes: expected an integer ≥ 0, got ${bytes}`);
}
