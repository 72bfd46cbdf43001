import type { DrivingEvent } from '../events/types.js';

export interface TraceReading {
  readonly name: string;
  readonly value: number | string | boolean;
  readonly unit: string;
  readonly time: number;
}

/** A completed crash trace: every reading of every signal around the trigger, at native rate. */
export interface CrashTrace {
  readonly event: DrivingEvent;
  readonly triggerTime: number;
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
 * crash triggers, the trace keeps what the ring held before it and whatever arrives until
 * `postMs` after it. Traces are returned once complete; the agent then locks them in the outbox
 * (never evicted) and sends them before anything else.
 */
export class CrashRecorder {
  private readonly o: CrashRecorderOptions;
  private ring: TraceReading[];
  private head = 0;
  private size = 0;
  private readonly pending: { event: DrivingEvent; triggerTime: number }[] = [];

  constructor(options: Partial<CrashRecorderOptions> = {}) {
    this.o = { ...DEFAULT_CRASH_RECORDER, ...options };
    if (!(this.o.preMs >= 0 && this.o.postMs >= 0)) throw new RangeError('pre/post must be ≥ 0');
    if (!(Number.isInteger(this.o.maxReadings) && this.o.maxReadings > 0)) {
      throw new RangeError('maxReadings must be a positive integer');
    }
    this.ring = new Array<TraceReading>(this.o.maxReadings);
  }

  /** Records a reading; returns the traces this reading completed. */
  push(reading: TraceReading): CrashTrace[] {
    this.ring[(this.head + this.size) % this.o.maxReadings] = reading;
    if (this.size < this.o.maxReadings) this.size++;
    else this.head = (this.head + 1) % this.o.maxReadings;
    this.evictOlderThan(reading.time);
    return this.complete(reading.time);
  }

  /** Starts a trace for a crash event (its `start` is the trigger time). */
  trigger(event: DrivingEvent): void {
    this.pending.push({ event, triggerTime: event.start });
  }

  /** Completes every pending trace with what is there (shutdown, power loss warning). */
  flush(): CrashTrace[] {
    return this.complete(Infinity);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private evictOlderThan(now: number): void {
    // The oldest pending trigger decides how far back we must keep; otherwise preMs + postMs.
    const oldestTrigger = this.pending[0]?.triggerTime ?? now;
    const keepFrom = Math.min(now, oldestTrigger) - this.o.preMs - this.o.postMs;
    while (this.size > 0 && (this.ring[this.head]?.time ?? Infinity) < keepFrom) {
      this.head = (this.head + 1) % this.o.maxReadings;
      this.size--;
    }
  }

  private complete(now: number): CrashTrace[] {
    const done: CrashTrace[] = [];
    while (this.pending.length > 0) {
      const p = this.pending[0];
      // Strictly after: readings stamped exactly at the window end may still be on their way.
      if (!p || now <= p.triggerTime + this.o.postMs) break;
      this.pending.shift();
      const from = p.triggerTime - this.o.preMs;
      const to = p.triggerTime + this.o.postMs;
      const readings: TraceReading[] = [];
      for (let i = 0; i < this.size; i++) {
        const r = this.ring[(this.head + i) % this.o.maxReadings];
        if (r && r.time >= from && r.time <= to) readings.push(r);
      }
      done.push({ event: p.event, triggerTime: p.triggerTime, from, to, readings });
    }
    return done;
  }
}
