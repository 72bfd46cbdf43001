import { AdapterError } from '../source/errors.js';
import { readCandump, replayCandump, newCandumpStats, type CandumpStats } from './candump.js';
import { FrameQueue } from './frame-queue.js';
import type { CanFrame } from './frame.js';
import type { CanFrameSource } from './frame-source.js';
import { access } from 'node:fs/promises';

export interface CandumpReplayOptions {
  /** The candump `-l` log to replay. */
  readonly path: string;
  /** 1 = the log's own pace, N = N× faster, `Infinity` = as fast as the reader takes them. */
  readonly speed?: number;
  /** Only frames logged on this interface (e.g. `can0`); default all. */
  readonly channel?: string;
}

/** Frames buffered ahead of the reader; the file is read no further until they are taken. */
const READ_AHEAD = 1024;

/**
 * Replays a candump log as a `CanFrameSource`, frames keeping the log's own time base. The
 * stream ends (`done`) at the end of the log, which is not a disconnect. Bad lines are counted
 * in `stats`, never fatal.
 */
export class CandumpReplaySource implements CanFrameSource {
  readonly id: string;
  private queue: FrameQueue | undefined;
  private pump: Promise<void> | undefined;
  private stopped = false;
  /** Counts of the current (or last) open. */
  stats: CandumpStats = newCandumpStats();

  constructor(private readonly options: CandumpReplayOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new AdapterError('bad-input', 'path must be a non-empty string');
    }
    if (options.speed !== undefined && !(typeof options.speed === 'number' && options.speed > 0)) {
      throw new AdapterError(
        'bad-input',
        'speed must be a number > 0 (Infinity for as fast as possible)',
      );
    }
    this.id = `candump:${options.path}`;
  }

  get isOpen(): boolean {
    return this.queue !== undefined && !this.queue.isEnded;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    try {
      await access(this.options.path);
    } catch (err) {
      throw new AdapterError('no-adapter', `${this.id}: cannot read the log`, { cause: err });
    }
    const queue = new FrameQueue();
    this.queue = queue;
    this.stopped = false;
    this.stats = newCandumpStats();
    this.pump = this.run(queue, this.stats);
  }

  async close(): Promise<void> {
    this.stopped = true;
    const queue = this.queue;
    if (queue) {
      queue.end();
      queue.clear();
    }
    await this.pump;
    this.pump = undefined;
  }

  frames(): AsyncIterable<CanFrame> {
    if (!this.queue) throw new AdapterError('bad-input', `${this.id}: frames() before open()`);
    return this.queue;
  }

  private async run(queue: FrameQueue, stats: CandumpStats): Promise<void> {
    const channel = this.options.channel;
    try {
      const records = readCandump(this.options.path, { stats });
      for await (const { frame, channel: ch } of replayCandump(records, {
        speed: this.options.speed ?? 1,
      })) {
        if (this.stopped) break;
        if (channel !== undefined && ch !== channel) continue;
        await queue.waitForSpace(READ_AHEAD);
        if (this.stopped) break;
        queue.push(frame);
      }
      queue.end();
    } catch (err) {
      queue.fail(
        new AdapterError('no-adapter', `${this.id}: ${(err as Error).message}`, { cause: err }),
      );
    }
  }
}
