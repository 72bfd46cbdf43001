import { ReadlineParser } from '@serialport/parser-readline';
import type { SerialPort } from 'serialport';
import { openSerialPort } from '../source/serial-port.js';
import { AdapterError, DisconnectedError } from '../source/errors.js';
import { ReadingQueue } from '../source/reading-queue.js';
import type { Reading, SignalSource } from '../source/types.js';

/** Turns one text line into readings; `valid` says the line spoke the protocol. */
export interface LineDecoder {
  decode(line: string): { readonly valid: boolean; readonly readings: readonly Reading[] };
}

export interface SerialLineSourceOptions {
  /** Serial device, e.g. `/dev/ttyACM0`, `/dev/enginechain/gnss` or a pty. */
  readonly path: string;
  readonly baudRate?: number;
  /** How long `open()` waits for the first valid line before deciding nobody is there. */
  readonly openTimeoutMs?: number;
  /** Silence after which the link counts as lost (the device streams continuously). */
  readonly silenceTimeoutMs?: number;
}

/**
 * A `SignalSource` for devices that stream text lines on their own (GNSS receivers, the IMU):
 * nothing is sent to the device. Shared by `NmeaSource` and `ImuSource`.
 *
 * - `open()` resolves when the first valid line arrived; it rejects with
 *   `AdapterError('no-adapter')` when the port cannot be opened or no valid line arrives within
 *   `openTimeoutMs` (wrong port, wrong baud rate, not this protocol).
 * - Disconnect: the port closing under us (unplug, pty gone) or `silenceTimeoutMs` without a
 *   line makes readers throw `DisconnectedError`; wrap in `ReconnectingSource` to reopen with
 *   backoff. Invalid lines are counted by the decoder and never end the stream.
 * - `close()` ends pending reads with `done`, is idempotent and never throws.
 */
export abstract class SerialLineSource implements SignalSource {
  abstract readonly id: string;
  private port: SerialPort | undefined;
  private queue: ReadingQueue | undefined;
  private silenceTimer: NodeJS.Timeout | undefined;
  private open_ = false;

  protected constructor(protected readonly options: SerialLineSourceOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new AdapterError('bad-input', 'path must be a non-empty string');
    }
    for (const field of ['baudRate', 'openTimeoutMs', 'silenceTimeoutMs'] as const) {
      const value = options[field];
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new AdapterError('bad-input', `${field} must be a positive integer`);
      }
    }
  }

  /** A fresh decoder for each open (state such as the last date does not survive a reopen). */
  protected abstract newDecoder(): LineDecoder;
  protected abstract readonly protocolName: string;

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.open_) return;
    const port = await openSerialPort(this.options.path, this.options.baudRate ?? 9600, this.id);
    const queue = new ReadingQueue();
    const decoder = this.newDecoder();
    let firstValid: () => void = () => {};
    const gotValid = new Promise<void>((resolve) => (firstValid = resolve));
    const lines = port.pipe(new ReadlineParser({ delimiter: '\n', encoding: 'latin1' }));
    lines.on('data', (raw: string) => {
      this.armSilenceTimer(queue, port);
      const { valid, readings } = decoder.decode(raw.replace(/\r$/, ''));
      if (valid) firstValid();
      for (const r of readings) queue.push(r);
    });
    const lost = (why: string, cause?: unknown) => {
      if (queue.isEnded) return;
      this.open_ = false;
      queue.fail(new DisconnectedError(`${this.id}: ${why}`, { cause }));
      this.release(port);
    };
    port.on('close', (err: unknown) => lost('port closed', err));
    port.on('error', (err: Error) => lost(err.message, err));
    this.port = port;
    this.queue = queue;

    const timeoutMs = this.options.openTimeoutMs ?? 3000;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      gotValid.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!answered) {
      queue.end();
      this.release(port);
      throw new AdapterError(
        'no-adapter',
        `${this.id}: no valid ${this.protocolName} line within ${timeoutMs} ms (check port and baud rate)`,
      );
    }
    this.open_ = true;
    this.armSilenceTimer(queue, port);
  }

  async close(): Promise<void> {
    this.open_ = false;
    const queue = this.queue;
    if (queue && !queue.isEnded) {
      queue.end();
      // Closing means the caller wants no more: discard what was decoded but not yet read
      // (after end(), next() resolves at once until the buffer is empty, then `done`).
      while (!(await queue.next().catch(() => ({ done: true }))).done);
    }
    const port = this.port;
    this.port = undefined;
    if (port) await this.release(port);
  }

  readings(): AsyncIterable<Reading> {
    if (!this.queue) throw new AdapterError('bad-input', `${this.id}: readings() before open()`);
    return this.queue;
  }

  private armSilenceTimer(queue: ReadingQueue, port: SerialPort): void {
    clearTimeout(this.silenceTimer);
    const ms = this.options.silenceTimeoutMs ?? 5000;
    this.silenceTimer = setTimeout(() => {
      if (queue.isEnded || !this.open_) return;
      this.open_ = false;
      queue.fail(new DisconnectedError(`${this.id}: no line for ${ms} ms`));
      void this.release(port);
    }, ms);
    this.silenceTimer.unref();
  }

  private release(port: SerialPort): Promise<void> {
    clearTimeout(this.silenceTimer);
    port.removeAllListeners('data');
    port.unpipe();
    if (!port.isOpen) return Promise.resolve();
    return new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
