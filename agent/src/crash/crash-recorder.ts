import type { DrivingEvent } from '../events/types.js';

export interface TraceReading {
  readonly name: string;
  readonly value: number | string | boolean;
  readonly unit: string;
  readonly time: number;
}

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
  /**
   * The ring is columns, not reading objects: at 100 signals × 10 Hz the 20 s window is 20k
   * readings, which as objects (with their boxed numbers) were the largest thing in the
   * agent's heap. The columns grow by doubling up to `maxReadings`, so they hold about preMs
   * of readings, never the hundreds of seconds their capacity would allow.
   */
  private times: Float64Array;
  private values: Float64Array;
  /** Index into `signals` of each slot's name and unit. */
  private signalOf: Uint32Array;
  /** The few readings whose value is not a number (a DTC, a gear name), by slot. */
  private readonly otherValues = new Map<number, string | boolean>();
  private readonly signals: { readonly name: string; readonly unit: string }[] = [];
  private readonly signalIndex = new Map<string, number>();
  private head = 0;
  private size = 0;
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
    const capacity = Math.min(1_024, this.o.maxReadings);
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.signalOf = new Uint32Array(capacity);
  }

  /** Records a reading; returns the `after` parts this reading completed. */
  push(reading: TraceReading): CrashTrace[] {
    if (this.size === this.times.length && this.size < this.o.maxReadings) this.grow();
    const capacity = this.times.length;
    const slot = (this.head + this.size) % capacity;
    this.times[slot] = reading.time;
    this.signalOf[slot] = this.signalNumber(reading.name, reading.unit);
    if (typeof reading.value === 'number') {
      this.values[slot] = reading.value;
      if (this.otherValues.size > 0) this.otherValues.delete(slot);
    } else {
      this.otherValues.set(slot, reading.value);
    }
    this.pushed++;
    if (this.size < capacity) this.size++;
    else this.head = (this.head + 1) % capacity;
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
    return this.times.length;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private signalNumber(name: string, unit: string): number {
    const key = `${name}\u0000${unit}`;
    let n = this.signalIndex.get(key);
    if (n === undefined) {
      n = this.signals.length;
      this.signals.push({ name, unit });
      this.signalIndex.set(key, n);
    }
    return n;
  }

  private evictOlderThan(now: number): void {
    // A new trigger needs preMs of history; a pending trace needs everything after its trigger.
    const oldestTrigger = this.pending[0]?.triggerTime ?? Infinity;
    const keepFrom = Math.min(now - this.o.preMs, oldestTrigger);
    const capacity = this.times.length;
    while (this.size > 0 && (this.times[this.head] ?? Infinity) < keepFrom) {
      if (this.otherValues.size > 0) this.otherValues.delete(this.head);
      this.head = (this.head + 1) % capacity;
      this.size--;
    }
  }

  private grow(): void {
    const old = this.times.length;
    const capacity = Math.min(old * 2, this.o.maxReadings);
    const times = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    const signalOf = new Uint32Array(capacity);
    const moved = new Map<number, string | boolean>();
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) % old;
      times[i] = this.times[from] ?? 0;
      values[i] = this.values[from] ?? 0;
      signalOf[i] = this.signalOf[from] ?? 0;
      const other = this.otherValues.get(from);
      if (other !== undefined) moved.set(i, other);
    }
    this.otherValues.clear();
    for (const [slot, value] of moved) this.otherValues.set(slot, value);
    this.times = times;
    this.values = values;
    this.signalOf = signalOf;
    this.head = 0;
  }

  /** Readings with from ≤ time ≤ to among those numbered [firstNumber, endNumber). */
  private select(from: number, to: number, firstNumber: number, endNumber: number): TraceReading[] {
    const readings: TraceReading[] = [];
    const ringStart = this.pushed - this.size;
    const capacity = this.times.length;
    for (let n = Math.max(firstNumber, ringStart); n < endNumber; n++) {
      const slot = (this.head + n - ringStart) % capacity;
      const time = this.times[slot] ?? NaN;
      if (!(time >= from && time <= to)) continue;
      const signal = this.signals[this.signalOf[slot] ?? 0];
      if (!signal) continue;
      const value = this.otherValues.get(slot) ?? this.values[slot] ?? NaN;
      readings.push({ name: signal.name, value, unit: signal.unit, time });
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
