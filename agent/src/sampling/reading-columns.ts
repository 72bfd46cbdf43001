/** A reading as the batches and crash traces carry it: what is signed, nothing more. */
export interface ColumnReading {
  readonly name: string;
  readonly value: number | string | boolean;
  readonly unit: string;
  readonly time: number;
}

/**
 * Readings kept as columns (time, value, signal number) in a ring that grows by doubling up
 * to `maxLength` and then overwrites its oldest. At 100 signals × 10 Hz the agent holds tens
 * of thousands of readings (the crash window, the pending batch); as objects, with their
 * boxed numbers, they were the largest thing in its heap, on a board with little RAM.
 */
export class ReadingColumns {
  private times: Float64Array;
  private values: Float64Array;
  private signalOf: Uint32Array;
  /** The few readings whose value is not a number (a DTC, a gear name), by slot. */
  private readonly otherValues = new Map<number, string | boolean>();
  private readonly signals: { readonly name: string; readonly unit: string }[] = [];
  /** name → unit → signal number: two lookups, no key string built per reading. */
  private readonly signalNumbers = new Map<string, Map<string, number>>();
  private head = 0;
  private size = 0;

  constructor(readonly maxLength: number) {
    if (!(Number.isInteger(maxLength) && maxLength > 0)) {
      throw new RangeError('maxLength must be a positive integer');
    }
    const capacity = Math.min(1_024, maxLength);
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.signalOf = new Uint32Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Slots allocated: grows with what is held, never beyond `maxLength`. */
  get capacity(): number {
    return this.times.length;
  }

  /** Appends a reading; when `maxLength` are held, the oldest is overwritten. */
  push(reading: ColumnReading): void {
    if (this.size === this.times.length && this.size < this.maxLength) this.grow();
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
    if (this.size < capacity) this.size++;
    else this.head = (this.head + 1) % capacity;
  }

  /** Time of the i-th reading held, oldest first. */
  timeAt(i: number): number {
    return this.times[this.slot(i)] ?? NaN;
  }

  /** The i-th reading held, oldest first, as a new object. */
  at(i: number): ColumnReading {
    const slot = this.slot(i);
    const signal = this.signals[this.signalOf[slot] ?? 0];
    if (!signal) throw new RangeError(`no reading at ${i}`);
    const value = this.otherValues.get(slot) ?? this.values[slot] ?? NaN;
    return { name: signal.name, value, unit: signal.unit, time: this.times[slot] ?? NaN };
  }

  dropOldest(): void {
    if (this.size === 0) return;
    if (this.otherValues.size > 0) this.otherValues.delete(this.head);
    this.head = (this.head + 1) % this.times.length;
    this.size--;
  }

  /** Empties the ring; it keeps its slots, which the next readings fill again. */
  clear(): void {
    this.otherValues.clear();
    this.head = 0;
    this.size = 0;
  }

  private slot(i: number): number {
    if (!(i >= 0 && i < this.size)) throw new RangeError(`no reading at ${i}`);
    return (this.head + i) % this.times.length;
  }

  private signalNumber(name: string, unit: string): number {
    let units = this.signalNumbers.get(name);
    if (units === undefined) {
      units = new Map();
      this.signalNumbers.set(name, units);
    }
    let n = units.get(unit);
    if (n === undefined) {
      n = this.signals.length;
      this.signals.push({ name, unit });
      units.set(unit, n);
    }
    return n;
  }

  private grow(): void {
    const old = this.times.length;
    const capacity = Math.min(old * 2, this.maxLength);
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
}
