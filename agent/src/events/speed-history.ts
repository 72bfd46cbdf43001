/**
 * A short history of (time, speed) samples that answers "what was the speed at time t" by
 * linear interpolation, so acceleration over a fixed window does not depend on the rate at
 * which an adapter happened to answer.
 */
export class SpeedHistory {
  private readonly times: number[] = [];
  private readonly speeds: number[] = [];

  constructor(private readonly keepMs: number) {}

  add(time: number, speedKmh: number): void {
    const last = this.times.length - 1;
    if (last >= 0 && time <= (this.times[last] ?? -Infinity)) {
      // Out-of-order or repeated timestamps are dropped: the scheduler guarantees monotonic
      // time, so this only happens on a duplicated reading.
      return;
    }
    this.times.push(time);
    this.speeds.push(speedKmh);
    const horizon = time - this.keepMs;
    let drop = 0;
    // Keep one sample at or before the horizon so interpolation at the window start works.
    while (drop + 1 < this.times.length && (this.times[drop + 1] ?? Infinity) <= horizon) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      this.speeds.splice(0, drop);
    }
  }

  /** Speed at `time`, or undefined when the history does not reach back that far. */
  at(time: number): number | undefined {
    const n = this.times.length;
    if (n === 0 || time < (this.times[0] ?? Infinity) || time > (this.times[n - 1] ?? -Infinity)) {
      return undefined;
    }
    let hi = n - 1;
    while (hi > 0 && (this.times[hi - 1] ?? -Infinity) >= time) hi--;
    const t1 = this.times[hi] ?? time;
    const v1 = this.speeds[hi] ?? 0;
    if (t1 === time || hi === 0) return v1;
    const t0 = this.times[hi - 1] ?? t1;
    const v0 = this.speeds[hi - 1] ?? v1;
    return v0 + ((v1 - v0) * (time - t0)) / (t1 - t0);
  }

  /** Highest speed seen in [from, latest]. */
  maxSince(from: number): number | undefined {
    let max: number | undefined;
    for (let i = this.times.length - 1; i >= 0; i--) {
      const t = this.times[i] ?? -Infinity;
      const v = this.speeds[i] ?? 0;
      if (t < from) {
        // The interpolated value at `from` may be higher than any sample inside the window.
        const edge = this.at(from);
        if (edge !== undefined && (max === undefined || edge > max)) max = edge;
        break;
      }
      if (max === undefined || v > max) max = v;
    }
    return max;
  }
}
