import { AdapterError, DisconnectedError, TimeoutError } from '../source/errors.js';
import type { ElmTransport } from './transport.js';

interface Job {
  readonly command: string;
  /** False for `receive()`: wait for a reply without sending anything. */
  readonly write: boolean;
  readonly timeoutMs: number;
  resolve(raw: string): void;
  reject(err: unknown): void;
}

/**
 * The command layer over a transport: one command in flight, the rest queued; a reply is
 * everything up to the `>` prompt. An ELM327 cannot take a second command before its prompt
 * (the character would abort the first), so the queue is the only safe way to share it.
 *
 * - A reply that does not end within its timeout rejects with `TimeoutError`. The next command
 *   waits until the late reply's `>` arrives (and is thrown away) or for as long again, so a
 *   late reply is never taken for the next command's.
 * - When the transport is lost every queued and in-flight command rejects with
 *   `DisconnectedError`, and so do later ones.
 */
export class ElmLink {
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private timer: NodeJS.Timeout | undefined;
  private buffer = '';
  /** Set after a timeout while the rest of that reply may still be on its way. */
  private resyncing = false;
  private lostError: DisconnectedError | undefined;
  /** Replies that came with no command in flight, kept (a few) for `receive()`. */
  private unclaimed: string[] = [];
  /** Commands sent and replies framed, for stats and benchmarks. */
  requests = 0;

  constructor(private readonly transport: ElmTransport) {
    transport.onData((chunk) => this.onData(chunk));
    transport.onLost((reason, cause) => this.onLost(reason, cause));
  }

  get address(): string {
    return this.transport.address;
  }

  get isLost(): boolean {
    return this.lostError !== undefined;
  }

  /** Sends `command` (without CR) and resolves with the raw reply text before the prompt. */
  send(command: string, timeoutMs: number): Promise<string> {
    if (typeof command !== 'string' || /[\r\n>]/.test(command)) {
      return Promise.reject(new AdapterError('bad-input', 'command must be one line without >'));
    }
    if (this.lostError) return Promise.reject(this.lostError);
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ command, write: true, timeoutMs, resolve, reject });
      if (!this.current) this.next();
    });
  }

  /**
   * Waits for one more reply without sending a command: for resynchronising after a reply
   * turned out to be stale (sent before this link opened).
   */
  receive(timeoutMs: number): Promise<string> {
    if (this.lostError) return Promise.reject(this.lostError);
    const early = this.unclaimed.shift();
    if (early !== undefined) return Promise.resolve(early);
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ command: '(receive)', write: false, timeoutMs, resolve, reject });
      if (!this.current) this.next();
    });
  }

  /** Rejects everything pending with `DisconnectedError` and closes the transport. */
  async close(): Promise<void> {
    this.fail(new DisconnectedError(`${this.address}: closed`));
    await this.transport.close();
  }

  private next(): void {
    if (this.resyncing || this.lostError) return;
    const job = this.queue.shift();
    this.current = job;
    if (!job) return;
    if (job.write) {
      // Anything unclaimed by now is stale: the reply to this command is yet to come.
      this.unclaimed = [];
      this.requests++;
    }
    this.timer = setTimeout(() => {
      if (this.current !== job) return;
      this.current = undefined;
      this.resyncing = true;
      job.reject(
        new TimeoutError(`${this.address}: no reply to ${job.command} within ${job.timeoutMs} ms`),
      );
      this.timer = setTimeout(() => this.endResync(), job.timeoutMs);
    }, job.timeoutMs);
    if (job.write) this.transport.write(`${job.command}\r`);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.indexOf('>')) >= 0) {
      const raw = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 1);
      if (this.resyncing) {
        this.endResync();
        continue;
      }
      const job = this.current;
      // A prompt with no command in flight: unsolicited or late text (a reset banner, the
      // reply after a resync); `receive()` may want it.
      if (!job) {
        if (this.unclaimed.push(raw) > 4) this.unclaimed.shift();
        continue;
      }
      clearTimeout(this.timer);
      this.current = undefined;
      job.resolve(raw);
      this.next();
    }
    // Garbage without a prompt cannot grow without bound: a reply is at most a few kB.
    if (this.buffer.length > 64 * 1024) this.buffer = this.buffer.slice(-4096);
  }

  private endResync(): void {
    if (!this.resyncing) return;
    clearTimeout(this.timer);
    this.resyncing = false;
    this.buffer = '';
    this.next();
  }

  private onLost(reason: string, cause?: unknown): void {
    this.fail(new DisconnectedError(`${this.address}: ${reason}`, { cause }));
  }

  private fail(err: DisconnectedError): void {
    if (this.lostError) return;
    this.lostError = err;
    clearTimeout(this.timer);
    const jobs = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const job of jobs) job.reject(err);
  }
}
