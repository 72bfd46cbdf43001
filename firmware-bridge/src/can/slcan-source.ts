import type { SerialPort } from 'serialport';
import { openSerialPort } from '../source/serial-port.js';
import { AdapterError, DisconnectedError, ProtocolError, TimeoutError } from '../source/errors.js';
import { FrameQueue } from './frame-queue.js';
import type { CanFrame } from './frame.js';
import type { CanFrameSink, CanFrameSource } from './frame-source.js';
import {
  SLCAN_TIMESTAMP_WRAP_MS,
  SlcanTimestampUnwrapper,
  SlcanTokenizer,
  encodeSlcanFrame,
  parseSlcanFrame,
  slcanBitrateCommand,
  type SlcanToken,
} from './slcan-protocol.js';

export interface SlcanSourceOptions {
  /** Serial device, e.g. `/dev/ttyACM0` (CANable), `/dev/ttyUSB0` (CANUSB) or a pty. */
  readonly path: string;
  /** CAN bitrate in bit/s, one of S0..S8: 10k, 20k, 50k, 100k, 125k, 250k, 500k, 800k, 1M. */
  readonly bitrate?: number;
  /** Serial speed; USB CDC adapters ignore it. Default 115200. */
  readonly baudRate?: number;
  /** Ask for the adapter's millisecond timestamps (`Z1`) and date frames by them. */
  readonly timestamps?: boolean;
  /** 60,000 for Lawicel, 65,536 for clones that wrap the full 16 bits. */
  readonly timestampWrapMs?: number;
  /** Open with `L` (listen only: the adapter never acknowledges or transmits). */
  readonly listenOnly?: boolean;
  /** How long one command waits for its CR/BEL reply. Default 1000 ms. */
  readonly commandTimeoutMs?: number;
  /** Host clock (Unix ms); injectable for tests. */
  readonly now?: () => number;
}

export interface SlcanStats {
  frames: number;
  /** Lines that were neither a frame nor an expected reply (line noise, partial frames). */
  garbage: number;
  /** BEL replies, to our commands or unsolicited. */
  errorReplies: number;
}

type Expect = 'ack' | 'tx' | 'V' | 'N' | 'F';
interface Pending {
  readonly command: string;
  readonly expect: Expect;
  readonly resolve: (reply: string) => void;
  readonly reject: (err: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A Lawicel SLCAN adapter on a serial port (CANable, CANUSB, USBtin and clones, or the
 * emulator on a pty) as a `CanFrameSource` that can also `send`.
 *
 * - `open()` clears the adapter's line buffer (three CRs), closes the channel (`C`), asks the
 *   version (`V`; no `V` reply within the timeout means no SLCAN adapter: `no-adapter`), the
 *   serial number (`N`, optional), sets the bitrate (`S<n>`; BEL = `unsupported`), timestamps
 *   (`Z1`/`Z0`) and opens the channel (`O`, or `L` listen-only; BEL = `protocol`).
 * - A BEL in reply to a command rejects that command with a `ProtocolError`; line noise and
 *   partial lines are counted in `stats.garbage` and never end the stream.
 * - Disconnect: the port closing under us (USB unplug, pty gone) makes `frames()` throw
 *   `DisconnectedError`; wrap the `DbcSignalSource` on top in `ReconnectingSource` to reopen.
 * - `close()` sends `C` if it can, closes the port, ends pending reads with `done`.
 */
export class SlcanSource implements CanFrameSource, CanFrameSink {
  readonly id: string;
  private port: SerialPort | undefined;
  private queue: FrameQueue | undefined;
  private pending: Pending | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private open_ = false;
  stats: SlcanStats = { frames: 0, garbage: 0, errorReplies: 0 };
  /** From `V` at open, e.g. `V1013`. */
  version: string | undefined;
  /** From `N` at open, when the adapter answers it. */
  serialNumber: string | undefined;

  constructor(private readonly options: SlcanSourceOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new AdapterError('bad-input', 'path must be a non-empty string');
    }
    if (options.bitrate !== undefined && slcanBitrateCommand(options.bitrate) === undefined) {
      throw new AdapterError('bad-input', `bitrate ${options.bitrate} is not one of SLCAN S0..S8`);
    }
    for (const field of ['baudRate', 'commandTimeoutMs', 'timestampWrapMs'] as const) {
      const value = options[field];
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        throw new AdapterError('bad-input', `${field} must be a positive integer`);
      }
    }
    this.id = `slcan:${options.path}`;
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.open_) return;
    const port = await openSerialPort(this.options.path, this.options.baudRate ?? 115_200, this.id);
    const queue = new FrameQueue();
    const stats: SlcanStats = { frames: 0, garbage: 0, errorReplies: 0 };
    this.stats = stats;
    this.port = port;
    this.queue = queue;
    this.chain = Promise.resolve();
    const tokenizer = new SlcanTokenizer();
    const unwrapper = new SlcanTimestampUnwrapper(
      this.options.timestampWrapMs ?? SLCAN_TIMESTAMP_WRAP_MS,
    );
    const now = this.options.now ?? Date.now;
    port.on('data', (chunk: Buffer) => {
      for (const token of tokenizer.push(chunk)) this.onToken(token, queue, stats, unwrapper, now);
    });
    const lost = (why: string, cause?: unknown) => {
      if (queue.isEnded) return;
      this.open_ = false;
      this.failPending(new DisconnectedError(`${this.id}: ${why}`, { cause }));
      queue.fail(new DisconnectedError(`${this.id}: ${why}`, { cause }));
      void this.release(port);
    };
    port.on('close', (err: unknown) => lost('port closed', err));
    port.on('error', (err: Error) => lost(err.message, err));

    try {
      // Three CRs flush whatever half-typed command the adapter holds (Lawicel's advice).
      await this.write(port, '\r\r\r');
      await new Promise((r) => setTimeout(r, 20));
      stats.garbage = 0;
      stats.errorReplies = 0;
      // An adapter whose channel is already closed answers C with BEL; silence means nobody is there.
      await this.command('C', 'ack').catch((err: unknown) => {
        if (err instanceof TimeoutError) {
          throw new AdapterError(
            'no-adapter',
            `${this.id}: no reply to C (not an SLCAN adapter, or wrong port)`,
          );
        }
        ignoreProtocolError(err);
      });
      try {
        this.version = await this.command('V', 'V');
      } catch (err) {
        if (err instanceof TimeoutError) {
          throw new AdapterError(
            'no-adapter',
            `${this.id}: no reply to V (not an SLCAN adapter, or wrong port)`,
          );
        }
        throw err;
      }
      this.serialNumber = await this.command('N', 'N').catch(() => undefined);
      const bitrate = this.options.bitrate ?? 500_000;
      await this.command(slcanBitrateCommand(bitrate) as string, 'ack').catch((err: unknown) => {
        throw err instanceof ProtocolError
          ? new AdapterError('unsupported', `${this.id}: adapter refused bitrate ${bitrate}`)
          : err;
      });
      if (this.options.timestamps) {
        await this.command('Z1', 'ack').catch((err: unknown) => {
          throw err instanceof ProtocolError
            ? new AdapterError('unsupported', `${this.id}: adapter has no timestamps (Z1)`)
            : err;
        });
      } else {
        await this.command('Z0', 'ack').catch(ignoreProtocolError);
      }
      await this.command(this.options.listenOnly ? 'L' : 'O', 'ack');
    } catch (err) {
      queue.end();
      this.failPending(err);
      await this.release(port);
      this.port = undefined;
      throw err instanceof AdapterError
        ? err
        : new AdapterError('no-adapter', `${this.id}: ${(err as Error).message}`, { cause: err });
    }
    this.open_ = true;
  }

  async close(): Promise<void> {
    const wasOpen = this.open_;
    this.open_ = false;
    const queue = this.queue;
    if (queue && !queue.isEnded) {
      queue.end();
      queue.clear();
    }
    const port = this.port;
    if (port) {
      if (wasOpen && port.isOpen) await this.command('C', 'ack', 200).catch(() => undefined);
      this.port = undefined;
      this.failPending(new DisconnectedError(`${this.id}: closed`));
      await this.release(port);
    }
  }

  frames(): AsyncIterable<CanFrame> {
    if (!this.queue) throw new AdapterError('bad-input', `${this.id}: frames() before open()`);
    return this.queue;
  }

  /** Transmits a classic CAN frame; rejects with `ProtocolError` when the adapter answers BEL. */
  async send(frame: CanFrame): Promise<void> {
    if (!this.open_) throw new AdapterError('bad-input', `${this.id}: send() while not open`);
    if (this.options.listenOnly)
      throw new AdapterError('unsupported', `${this.id}: listen-only (L) cannot transmit`);
    let text: string;
    try {
      text = encodeSlcanFrame(frame);
    } catch (err) {
      throw new AdapterError('bad-input', `frame: ${(err as Error).message}`, { cause: err });
    }
    await this.command(text, 'tx');
  }

  /** The adapter's status flags (`F`): bit 0 RX FIFO full, 1 TX FIFO full, 2 error warning… */
  async status(): Promise<number> {
    if (!this.open_) throw new AdapterError('bad-input', `${this.id}: status() while not open`);
    const reply = await this.command('F', 'F');
    return parseInt(reply.slice(1), 16);
  }

  private onToken(
    token: SlcanToken,
    queue: FrameQueue,
    stats: SlcanStats,
    unwrapper: SlcanTimestampUnwrapper,
    now: () => number,
  ): void {
    if (token.kind === 'bell') {
      stats.errorReplies++;
      const pending = this.takePending();
      pending?.reject(
        new ProtocolError(`${this.id}: adapter answered ${pending.command} with BEL (error)`),
      );
      return;
    }
    if (token.kind === 'overflow') {
      stats.garbage++;
      return;
    }
    const line = token.text;
    const c = line[0];
    if ((c === 't' || c === 'T' || c === 'r' || c === 'R') && line.length > 4) {
      const f = parseSlcanFrame(line);
      if (!f) {
        stats.garbage++;
        return;
      }
      const host = now();
      const time =
        f.deviceTimeMs !== undefined && this.options.timestamps
          ? unwrapper.toHostTime(f.deviceTimeMs, host)
          : host;
      stats.frames++;
      queue.push(
        f.rtr
          ? { id: f.id, extended: f.extended, rtr: true, fd: false, data: f.data, time, dlc: f.dlc }
          : { id: f.id, extended: f.extended, rtr: false, fd: false, data: f.data, time },
      );
      return;
    }
    const pending = this.pending;
    if (pending && replyMatches(pending.expect, line)) {
      this.takePending()?.resolve(line);
      return;
    }
    stats.garbage++;
  }

  private takePending(): Pending | undefined {
    const p = this.pending;
    if (p) clearTimeout(p.timer);
    this.pending = undefined;
    return p;
  }

  private failPending(err: unknown): void {
    this.takePending()?.reject(err);
  }

  /** Commands go one at a time: SLCAN replies carry no tag, only their order matches them. */
  private command(
    text: string,
    expect: Expect,
    timeoutMs = this.options.commandTimeoutMs ?? 1000,
  ): Promise<string> {
    const run = async (): Promise<string> => {
      const port = this.port;
      if (!port || !port.isOpen) throw new DisconnectedError(`${this.id}: port not open`);
      const reply = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (this.pending?.timer === timer) this.pending = undefined;
          reject(new TimeoutError(`${this.id}: no reply to ${text} within ${timeoutMs} ms`));
        }, timeoutMs);
        this.pending = { command: text, expect, resolve, reject, timer };
      });
      // If the write fails, nobody awaits `reply`, yet close() or a lost port still rejects it.
      reply.catch(() => undefined);
      await this.write(port, `${text}\r`);
      return reply;
    };
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private write(port: SerialPort, text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      port.write(text, 'latin1', (err) =>
        err ? reject(new DisconnectedError(`${this.id}: write failed`, { cause: err })) : resolve(),
      );
    });
  }

  private release(port: SerialPort): Promise<void> {
    port.removeAllListeners('data');
    if (!port.isOpen) return Promise.resolve();
    return new Promise<void>((resolve) => port.close(() => resolve()));
  }
}

function replyMatches(expect: Expect, line: string): boolean {
  switch (expect) {
    case 'ack':
      return line === '';
    case 'tx':
      // Lawicel answers z / Z; many clones (CANable slcan firmware) answer a bare CR.
      return line === '' || line === 'z' || line === 'Z';
    case 'V':
      return /^[Vv][0-9A-Fa-f]{4}/.test(line);
    case 'N':
      return /^N[0-9A-Za-z]{1,8}$/.test(line);
    case 'F':
      return /^F[0-9A-Fa-f]{2}$/.test(line);
  }
}

function ignoreProtocolError(err: unknown): void {
  if (!(err instanceof ProtocolError)) throw err;
}
