import { AdapterError, DisconnectedError } from '../source/errors.js';
import { FrameQueue } from './frame-queue.js';
import type { CanFrame } from './frame.js';
import type { CanFrameSink, CanFrameSource } from './frame-source.js';

/** The part of the `socketcan` package (4.0.x, native) this source uses. */
interface RawMessage {
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  canfd?: boolean;
  data: Buffer;
  ts_sec?: number;
  ts_usec?: number;
}
interface RawChannel {
  addListener(event: 'onMessage', callback: (msg: RawMessage) => void): void;
  addListener(event: 'onStopped', callback: () => void): void;
  start(): void;
  stop(): void;
  send(message: { id: number; ext: boolean; rtr: boolean; data: Buffer }): void;
  sendFD(message: { id: number; ext: boolean; data: Buffer }): void;
}
export interface SocketCanModule {
  createRawChannelWithOptions(
    name: string,
    options: { timestamps?: boolean; non_block_send?: boolean },
  ): RawChannel;
}

/**
 * Loads the optional native `socketcan` package only when a SocketCAN source opens, so the
 * product installs and runs where it could not be built (macOS, containers without headers).
 */
export async function loadSocketCan(): Promise<SocketCanModule> {
  try {
    const mod = (await import('socketcan')) as unknown as SocketCanModule & {
      default?: SocketCanModule;
    };
    return typeof mod.createRawChannelWithOptions === 'function'
      ? mod
      : (mod.default as SocketCanModule);
  } catch (err) {
    throw new AdapterError(
      'unsupported',
      'the optional socketcan package is not installed or not built for this platform (npm i socketcan on Linux)',
      { cause: err },
    );
  }
}

export interface SocketCanSourceOptions {
  /** Network interface, e.g. `can0`, `vcan0`. */
  readonly interface: string;
  /** Injectable for tests; default loads the `socketcan` package. */
  readonly load?: () => Promise<SocketCanModule>;
}

const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * A Linux SocketCAN interface through the `socketcan` package, as a `CanFrameSource`.
 * Frames are dated by the kernel's receive timestamp (Unix ms).
 *
 * How this was exercised: the development kernel has no `vcan` module, so only loading the
 * native package and the error for a missing interface are tested here; frame flow through a
 * real interface is an `it.skip` with its reason in socketcan-source.test.ts.
 * - `open()` rejects with `no-adapter` when the interface does not exist or is down, with
 *   `unsupported` when the package cannot load.
 * - The channel stopping while open (interface removed) makes `frames()` throw
 *   `DisconnectedError`.
 */
export class SocketCanSource implements CanFrameSource, CanFrameSink {
  readonly id: string;
  private channel: RawChannel | undefined;
  private queue: FrameQueue | undefined;
  private closing = false;

  constructor(private readonly options: SocketCanSourceOptions) {
    if (typeof options?.interface !== 'string' || !INTERFACE_NAME.test(options.interface)) {
      throw new AdapterError(
        'bad-input',
        'interface must be a network interface name such as can0',
      );
    }
    this.id = `socketcan:${options.interface}`;
  }

  get isOpen(): boolean {
    return this.channel !== undefined;
  }

  async open(): Promise<void> {
    if (this.channel) return;
    const socketcan = await (this.options.load ?? loadSocketCan)();
    let channel: RawChannel;
    try {
      channel = socketcan.createRawChannelWithOptions(this.options.interface, {
        timestamps: true,
        non_block_send: true,
      });
    } catch (err) {
      throw new AdapterError(
        'no-adapter',
        `${this.id}: cannot open the interface (does it exist and is it up? ip link show ${this.options.interface})`,
        { cause: err },
      );
    }
    const queue = new FrameQueue();
    this.closing = false;
    channel.addListener('onMessage', (msg: RawMessage) => {
      if (msg.err) return; // error frames are bus state, not data
      const time =
        msg.ts_sec !== undefined ? msg.ts_sec * 1000 + (msg.ts_usec ?? 0) / 1000 : Date.now();
      const fd = msg.canfd === true;
      queue.push({
        id: msg.id,
        extended: msg.ext === true,
        rtr: msg.rtr === true,
        fd,
        data: new Uint8Array(msg.data.buffer, msg.data.byteOffset, msg.data.length),
        time,
      });
    });
    channel.addListener('onStopped', () => {
      if (!this.closing) queue.fail(new DisconnectedError(`${this.id}: channel stopped`));
      this.channel = undefined;
    });
    try {
      channel.start();
    } catch (err) {
      throw new AdapterError('no-adapter', `${this.id}: cannot start: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.channel = channel;
    this.queue = queue;
  }

  async close(): Promise<void> {
    this.closing = true;
    const channel = this.channel;
    this.channel = undefined;
    if (this.queue && !this.queue.isEnded) {
      this.queue.end();
      this.queue.clear();
    }
    if (channel) {
      try {
        channel.stop();
      } catch {
        // stopping a channel whose interface vanished throws; closed is closed
      }
    }
  }

  frames(): AsyncIterable<CanFrame> {
    if (!this.queue) throw new AdapterError('bad-input', `${this.id}: frames() before open()`);
    return this.queue;
  }

  async send(frame: CanFrame): Promise<void> {
    const channel = this.channel;
    if (!channel) throw new AdapterError('bad-input', `${this.id}: send() while not open`);
    const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.length);
    try {
      if (frame.fd) channel.sendFD({ id: frame.id, ext: frame.extended, data });
      else channel.send({ id: frame.id, ext: frame.extended, rtr: frame.rtr, data });
    } catch (err) {
      throw new AdapterError('bus-error', `${this.id}: send failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
