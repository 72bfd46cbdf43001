import type { DrivingEvent } from '../events/types.js';
import { ReadingColumns, type ColumnReading } from '../sampling/reading-columns.js';

/** The content of one batch before it is signed (agent/src/batching/batch-signer.ts signs it). */
export interface BatchContent {
  readonly kind: 'routine' | 'event' | 'trace';
  readonly start: number;
  readonly end: number;
  /** What is signed of each reading; the source and its own timestamp stay on the board. */
  readonly readings: readonly ColumnReading[];
  readonly events: readonly DrivingEvent[];
}

export interface BatchAssemblerOptions {
  /** Cut a batch when its first reading is this old … */
  readonly maxAgeMs: number;
  /** … or when it holds this many readings. */
  readonly maxSamples: number;
  /**
   * Per-signal rates (Hz) for routine batches; a signal without one is kept at the rate it
   * arrives. Crash traces bypass this: they keep every reading.
   */
  readonly rates: Readonly<Record<string, number>>;
}

// Readings arrive with jitter around their nominal period; without slack a 10 Hz signal
// sampled at 99.8 ms intervals would lose every other reading.
const RATE_SLACK = 0.2;

/**
 * Collects the merged reading stream into batches: cut by age or size, each signal thinned
 * to its configured rate. A batch that carries an event is of kind `event` so the outbox
 * sends it before routine ones.
 */
export class BatchAssembler {
  /** The pending batch as columns: ten seconds of 100 signals are 10k readings. */
  private readonly readings: ReadingColumns;
  private events: DrivingEvent[] = [];
  /** When each rate-limited signal is next due; slots advance by the period, not by arrival. */
  private readonly due = new Map<string, number>();
  private readonly period = new Map<string, number>();

  constructor(private readonly o: BatchAssemblerOptions) {
    if (!(o.maxAgeMs > 0) || !(o.maxSamples > 0))
      throw new RangeError('maxAgeMs and maxSamples must be > 0');
    for (const [name, hz] of Object.entries(o.rates)) {
      if (!(hz > 0)) throw new RangeError(`rate of ${name} must be > 0`);
      this.period.set(name, 1_000 / hz);
    }
    this.readings = new ReadingColumns(o.maxSamples);
  }

  get pendingSamples(): number {
    return this.readings.length;
  }

  /** Time of the oldest pending reading, undefined when none is pending. */
  get oldestTime(): number | undefined {
    return this.readings.length > 0 ? this.readings.timeAt(0) : undefined;
  }

  /** Adds a reading; returns a batch when this reading completed one. */
  push(r: ColumnReading): BatchContent | undefined {
    const cut = this.readings.length > 0 && r.time - this.readings.timeAt(0) >= this.o.maxAgeMs
      ? this.cut()
      : undefined; // prettier-ignore
    if (this.keep(r)) this.readings.push(r);
    if (cut) return cut;
    return this.readings.length >= this.o.maxSamples ? this.cut() : undefined;
  }

  private keep(r: ColumnReading): boolean {
    const period = this.period.get(r.name);
    if (period === undefined) return true;
    const due = this.due.get(r.name);
    if (due !== undefined && r.time < due - period * RATE_SLACK) return false;
    // After a pause in the signal, start a new grid rather than catching up with a burst.
    this.due.set(
      r.name,
      due === undefined || r.time - due > period ? r.time + period : due + period,
    );
    return true;
  }

  addEvent(e: DrivingEvent): void {
    this.events.push(e);
  }

  /** Cuts whatever is pending (time-based flush, shutdown); undefined when empty. */
  cut(): BatchContent | undefined {
    if (this.readings.length === 0 && this.events.length === 0) return undefined;
    const readings: ColumnReading[] = new Array<ColumnReading>(this.readings.length);
    // Loops, not Math.min(...xs): a batch may hold tens of thousands of readings.
    let start = Infinity;
    let end = -Infinity;
    for (let i = 0; i < readings.length; i++) {
      const r = this.readings.at(i);
      readings[i] = r;
      if (r.time < start) start = r.time;
      if (r.time > end) end = r.time;
    }
    const events = this.events;
    this.readings.clear();
    this.events = [];
    for (const e of events) {
      if (e.start < start) start = e.start;
      if (Math.max(e.start, e.end) > end) end = Math.max(e.start, e.end);
    }
    return {
      kind: events.length > 0 ? 'event' : 'routine',
      start,
      end,
      readings,
      events,
    };
  }
}
