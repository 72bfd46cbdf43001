import type { DrivingEvent } from '../events/types.js';
import { ReadingColumns, type ColumnReading } from '../sampling/reading-columns.js';

export type TraceReading = ColumnReading;

/**
 * One part of a crash trace: every reading of every signal in its span, at native rate. A
 * trace comes in two parts so that what led up to the crash is on disk the moment it
 * triggers, not 10 s later: power is often cut in a crash, and the ring lives in memory.
 */
export interface CrashTrace {
  readonly event: DrivingEvent;
  readonly triggerTime: number;
  /**
   * `before`: what the ring holds from trigger − preMs up to the trigger, returned by
   * `trigger()` at once. `after`: what arrived after the trigger up to trigger + postMs,
   * returned by `push()` once postMs have passed, or by `flush()` with what there is.
   */
  readonly part: 'before' | 'after';
  readonly from: number;
  readonly to: number;
  readonly readings: readonly TraceReading[];
}

export interface CrashRecorderOptions {
  /** Kept before the trigger, ms (49 CFR 563 asks for at least 5 s; the issue asks ≥ 20 s). */
  readonly preMs: number;
  /** Kept after the trigger, ms (≥ 10 s). */
  readonly postMs: number;
  /** Ring capacity in readings: a bound on memory whatever the signal rates. */
  readonly maxReadings: number;
}

export const DEFAULT_CRASH_RECORDER: CrashRecorderOptions = {
  preMs: 20_000,
  postMs: 10_000,
  maxReadings: 400_000,
};

/**
 * A ring buffer of every reading, after the event data recorders of 49 CFR Part 563: when a
 * crash triggers, the part before it is taken from the ring at once, and the part after it
 * once `postMs` have passed. The agent locks both parts in the outbox (never evicted) and
 * sends them before anything else.
 */
export class CrashRecorder {
  private readonly o: CrashRecorderOptions;
  /** Holds about preMs of readings (evicted as they age), never its whole capacity. */
  private readonly ring: ReadingColumns;
  /** Readings pushed so far: the ring's last reading is number `pushed − 1`. */
  private pushed = 0;
  /**
   * `firstAfter`: number of the first reading pushed after the trigger. The parts split by
   * arrival, not by time, so a reading stamped exactly at the trigger time but pushed after
   * the trigger lands in the `after` part instead of in neither.
   */
  private readonly pending: { event: DrivingEvent; triggerTime: number; firstAfter: number }[] = [];

  constructor(options: Partial<CrashRecorderOptions> = {}) {
    this.o = { ...DEFAULT_CRASH_RECORDER, ...options };
    if (!(this.o.preMs >= 0 && this.o.postMs >= 0)) throw new RangeError('pre/post must be ≥ 0');
    if (!(Number.isInteger(this.o.maxReadings) && this.o.maxReadings > 0)) {
      throw new RangeError('maxReadings must be a positive integer');
    }
    this.ring = new ReadingColumns(this.o.maxReadings);
  }

  /** Records a reading; returns the `after` parts this reading completed. */
  push(reading: TraceReading): CrashTrace[] {
    this.ring.push(reading);
    this.pushed++;
    this.evictOlderThan(reading.time);
    return this.complete(reading.time);
  }

  /**
   * Starts a trace for a crash event (its `start` is the trigger time) and returns its
   * `before` part: what the ring holds from preMs before the trigger up to it.
   */
  trigger(event: DrivingEvent): CrashTrace {
    const triggerTime = event.start;
    this.pending.push({ event, triggerTime, firstAfter: this.pushed });
    const from = triggerTime - this.o.preMs;
    return {
      event,
      triggerTime,
      part: 'before',
      from,
      to: triggerTime,
      readings: this.select(from, triggerTime, 0, this.pushed),
    };
  }

  /** Completes every pending `after` part with what is there (shutdown, power loss warning). */
  flush(): CrashTrace[] {
    return this.complete(Infinity);
  }

  /** Slots the ring has grown to: about preMs × the total reading rate, not `maxReadings`. */
  get capacity(): number {
    return this.ring.capacity;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private evictOlderThan(now: number): void {
    // A new trigger needs preMs of history; a pending trace needs everything after its trigger.
    const oldestTrigger = this.pending[0]?.triggerTime ?? Infinity;
    const keepFrom = Math.min(now - this.o.preMs, oldestTrigger);
    while (this.ring.length > 0 && this.ring.timeAt(0) < keepFrom) this.ring.dropOldest();
  }

  /** Readings with from ≤ time ≤ to among those numbered [firstNumber, endNumber). */
  private select(from: number, to: number, firstNumber: number, endNumber: number): TraceReading[] {
    const readings: TraceReading[] = [];
    const ringStart = this.pushed - this.ring.length;
    for (let n = Math.max(firstNumber, ringStart); n < endNumber; n++) {
      const time = this.ring.timeAt(n - ringStart);
      if (time >= from && time <= to) readings.push(this.ring.at(n - ringStart));
    }
    return readings;
  }

  private complete(now: number): CrashTrace[] {
    const done: CrashTrace[] = [];
    while (this.pending.length > 0) {
      const p = this.pending[0];
      // Strictly after: readings stamped exactly at the window end may still be on their way.
      if (!p || now <= p.triggerTime + this.o.postMs) break;
      this.pending.shift();
      const to = p.triggerTime + this.o.postMs;
      done.push({
        event: p.event,
        triggerTime: p.triggerTime,
        part: 'after',
        from: p.triggerTime,
        to,
        readings: this.select(p.triggerTime, to, p.firstAfter, this.pushed),
      });
    }
    return done;
  }
}
