import { closeSync, constants, openSync, writeSync } from 'node:fs';
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
 * waits for the reader.
 *
 * The descriptor is opened O_NONBLOCK and written with `writeSync`, which then returns EAGAIN
 * instead of waiting. Not through `tty.WriteStream`: Node puts a tty handle in blocking mode,
 * so once nobody reads the pty (no client, or one that was killed) the kernel buffers fill and
 * the next write stops the whole event loop, every other emulated interface with it. Lines
 * are dropped whole, never cut, so a reader that comes back sees only complete lines.
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
  let fd: number | undefined = openSync(
    devicePath,
    constants.O_WRONLY | constants.O_NOCTTY | constants.O_NONBLOCK,
  );
  const counters = { written: 0, dropped: 0 };
  /** Bytes accepted but not yet taken by the kernel (the tail of a line cut by EAGAIN). */
  let backlog = Buffer.alloc(0);
  const flush = () => {
    while (fd !== undefined && backlog.length > 0) {
      let n: number;
      try {
        n = writeSync(fd, backlog);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
        // EIO and friends: the pty went away under us; the caller's close() is what matters.
        backlog = Buffer.alloc(0);
        return;
      }
      backlog = backlog.subarray(n);
    }
  };
  const tick = () => {
    flush();
    for (const line of options.nextLines()) {
      const bytes = Buffer.from(`${line}\r\n`, 'latin1');
      if (fd === undefined || backlog.length + bytes.length > MAX_BACKLOG_BYTES) {
        counters.dropped++;
        continue;
      }
      backlog = backlog.length === 0 ? bytes : Buffer.concat([backlog, bytes]);
      counters.written++;
    }
    flush();
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
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      await pty?.close();
    },
  };
}
