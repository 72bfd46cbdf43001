import { backoffDelay, type BackoffOptions } from '@enginechain/shared';
import { AdapterError } from './errors.js';
import { ReadingQueue } from './reading-queue.js';
import type { Reading, SignalSource } from './types.js';

export interface ReconnectingOptions {
  readonly backoff?: BackoffOptions;
  /** Called on every failed attempt and reconnect, for logs and metrics. */
  readonly onStatus?: (status: ReconnectStatus) => void;
  /** Injectable so tests do not wait for real delays. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type ReconnectStatus =
  | { readonly kind: 'disconnected'; readonly error: AdapterError; readonly attempt: number }
  | { readonly kind: 'reconnected'; readonly attempts: number };

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Keeps a source's readings flowing across unplug/replug: an `AdapterError` from the inner
 * source (disconnect, timeout, garbage that broke the protocol) closes it, waits with full-jitter
 * backoff and opens it again, forever, until `close()`. Errors that are not `AdapterError`s are
 * bugs and end the stream with that error. A first `open()` that cannot reach the adapter is not
 * retried (an installer wants to hear at once that the port is wrong); one whose link dropped
 * while being set up goes on reconnecting.
 */
export class ReconnectingSource implements SignalSource {
  readonly id: string;
  private queue: ReadingQueue | undefined;
  private pump: Promise<void> | undefined;
  private closing = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly inner: SignalSource,
    private readonly options: ReconnectingOptions = {},
  ) {
    this.id = inner.id;
  }

  get isOpen(): boolean {
    return this.queue !== undefined && !this.queue.isEnded;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    this.closing = false;
    let lost: AdapterError | undefined;
    try {
      await this.inner.open();
    } catch (err) {
      // A link that drops while it is being set up (an adapter that resets, Wi-Fi that blinks)
      // was there: a loss to ride out like any later one, not a wrong port to report.
      if (!(err instanceof AdapterError && err.code === 'disconnected')) throw err;
      lost = err;
    }
    const queue = new ReadingQueue();
    this.queue = queue;
    this.pump = this.run(queue, lost);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wake?.();
    this.queue?.end();
    await this.inner.close();
    await this.pump;
    this.pump = undefined;
  }

  readings(): AsyncIterable<Reading> {
    const queue = this.queue;
    if (!queue) throw new AdapterError('bad-input', `${this.id}: readings() before open()`);
    return queue;
  }

  private async run(queue: ReadingQueue, lostAtOpen?: AdapterError): Promise<void> {
    const backoff = this.options.backoff ?? { baseMs: 250, capMs: 30_000 };
    const sleep = this.options.sleep ?? defaultSleep;
    let lost = lostAtOpen;
    while (!this.closing) {
      if (lost === undefined) {
        try {
          for await (const reading of this.inner.readings()) queue.push(reading);
          if (this.closing) break;
          // The inner stream ended without being asked to: treat as a disconnect.
          throw new AdapterError('disconnected', `${this.id}: stream ended`);
        } catch (err) {
          if (this.closing) break;
          if (!(err instanceof AdapterError)) {
            queue.fail(err);
            return;
          }
          lost = err;
        }
      }
      await this.inner.close();
      let attempt = 0;
      while (!this.closing && lost !== undefined) {
        this.options.onStatus?.({ kind: 'disconnected', error: lost, attempt });
        await Promise.race([
          sleep(backoffDelay(attempt, backoff)),
          new Promise<void>((r) => (this.wake = r)),
        ]);
        if (this.closing) break;
        attempt++;
        try {
          await this.inner.open();
          this.options.onStatus?.({ kind: 'reconnected', attempts: attempt });
          lost = undefined;
        } catch (openErr) {
          if (!(openErr instanceof AdapterError)) {
            queue.fail(openErr);
            return;
          }
          lost = openErr;
        }
      }
    }
    queue.end();
  }
}
