import { constants, openSync } from 'node:fs';
import { WriteStream } from 'node:tty';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.js';

export interface LineEmitterOptions {
  /** Write to this serial device (a pty's device end). Default: make a new pty pair. */
  readonly devicePath?: string;
  /** Lines per second. */
  readonly rateHz: number;
  /** The lines to send at each tick (one sample or one GNSS epoch). */
  readonly nextLines: () => readonly string[];
}

export interface LineEmitter {
  /** Where a client connects: the pty's host end, or `devicePath` when one was given. */
  readonly path: string;
  /** Lines written and lines dropped because nobody was reading. */
  readonly counters: { written: number; dropped: number };
  close(): Promise<void>;
}

/** Backlog beyond which output is dropped: a UART sends whether or not anyone listens. */
const MAX_BACKLOG_BYTES = 4096;

/**
 * Streams lines into a serial device at a fixed rate, as a GNSS receiver or IMU does: it never
 * waits for the reader. Uses Node's non-blocking tty stream so a reader that is not there
 * cannot block the event loop or the libuv thread pool.
 */
export async function startLineEmitter(options: LineEmitterOptions): Promise<LineEmitter> {
  if (!(options.rateHz > 0 && options.rateHz <= 1000)) {
    throw new RangeError('rateHz must be within (0, 1000]');
  }
  let pty: PtyPair | undefined;
  let devicePath = options.devicePath;
  if (devicePath === undefined) {
    pty = await openPtyPair();
    devicePath = pty.devicePath;
  }
  const fd = openSync(devicePath, constants.O_RDWR | constants.O_NOCTTY);
  const stream = new WriteStream(fd);
  // EIO when the pty goes away under us; the caller's close() is what matters.
  stream.on('error', () => {});
  const counters = { written: 0, dropped: 0 };
  const tick = () => {
    for (const line of options.nextLines()) {
      if (stream.writableLength > MAX_BACKLOG_BYTES || stream.destroyed) counters.dropped++;
      else {
        stream.write(`${line}\r\n`);
        counters.written++;
      }
    }
  };
  const timer = setInterval(tick, 1000 / options.rateHz);
  let closed = false;
  return {
    path: pty?.hostPath ?? devicePath,
    counters,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.destroy();
      });
      await pty?.close();
    },
  };
}
