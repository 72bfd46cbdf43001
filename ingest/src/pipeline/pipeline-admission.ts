/**
 * How many batches the node holds between receiving and settling them (verify, sequence,
 * commit), at most. Past the limit a batch waits here, and the transport stops reading its
 * sender until it is admitted: the embedded broker (aedes) reads a connection again only once
 * the packets of its last read are taken, so TCP slows the device down; mqtt.js, consuming
 * from an external broker, holds the PUBACK and the next message, and the broker keeps the
 * rest queued. A node that receives faster than it verifies (thousands of devices flushing
 * their outboxes after an outage, or a flood) then slows its senders down instead of queueing
 * without bound until memory runs out: what waits is at most one read per connection.
 * Nothing is lost: a batch the node has not settled is not receipted, and the device keeps it
 * in its outbox until it is.
 */
export class PipelineAdmission {
  private admitted = 0;
  private readonly queue: (() => void)[] = [];
  private queueHead = 0;

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit: expected an integer ≥ 1, got ${limit}`);
  }

  /** Batches admitted and not yet settled. */
  get inPipeline(): number {
    return this.admitted;
  }

  /** Batches waiting to be admitted. */
  get waiting(): number {
    return this.queue.length - this.queueHead;
  }

  /** Resolves when the caller may hand one batch to the pipeline, in the order asked. */
  admit(): Promise<void> {
    if (this.admitted < this.limit && this.waiting === 0) {
      this.admitted++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  /** One admitted batch settled: the longest waiting one is admitted in its place. */
  release(): void {
    if (this.admitted === 0) throw new Error('release without an admitted batch');
    this.admitted--;
    if (this.waiting === 0) return;
    const next = this.queue[this.queueHead++] as () => void;
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.admitted++;
    next();
  }
}
