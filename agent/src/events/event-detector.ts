import { SpeedHistory } from './speed-history.js';
import { DEFAULT_THRESHOLDS, type DrivingEvent, type EventThresholds } from './types.js';

/** The readings the detector listens to (VSS names from the signal catalogue). */
export const EVENT_INPUTS = {
  speed: 'Vehicle.Speed',
  battery: 'Vehicle.LowVoltageBattery.CurrentVoltage',
  dtcs: 'Vehicle.OBD.DTCList',
  accelLongitudinal: 'Vehicle.Acceleration.Longitudinal',
  accelLateral: 'Vehicle.Acceleration.Lateral',
} as const;

export interface DetectorInput {
  readonly name: string;
  readonly value: number | string | boolean;
  readonly time: number;
}

const KMH_PER_MS = 3.6; // km/h in one m/s
// Speeds interpolated between 1 Hz points reproduce the 1-s differences only up to rounding;
// without this a difference of exactly 2.5 m/s² would count at 1 Hz but not at 10 Hz.
const EPSILON = 1e-9;
const CRASH_REFRACTORY_MS = 1_000;
const BATTERY_HYSTERESIS_V = 0.2;

interface Run {
  start: number;
  end: number;
  peak: number;
}

/**
 * Turns a time-ordered stream of readings into driving events. Pure and synchronous: the same
 * readings always give the same events, which is what lets a court-facing report be rerun.
 * Events whose end is not yet known (a harsh run still going on) come out when it ends, or
 * from `flush()` at the end of a trip.
 */
export class EventDetector {
  private readonly t: EventThresholds;
  private readonly speeds: SpeedHistory;
  private accelRun: Run | undefined;
  private brakeRun: Run | undefined;
  private speedingRun: Run | undefined;
  private lowBatterySince: number | undefined;
  private lowBatteryRaised = false;
  private lowBatteryMin = Infinity;
  private dtcs: Set<string> | undefined;
  private lastCrashAt = -Infinity;
  private lastAccel = { lon: 0, lat: 0 };

  constructor(thresholds: Partial<EventThresholds> = {}) {
    this.t = { ...DEFAULT_THRESHOLDS, ...thresholds };
    if (!(this.t.harshAccelerationMs2 > 0))
      throw new RangeError('harshAccelerationMs2 must be > 0');
    if (!(this.t.harshBrakingMs2 < 0)) throw new RangeError('harshBrakingMs2 must be < 0');
    if (!(this.t.accelWindowMs > 0)) throw new RangeError('accelWindowMs must be > 0');
    if (!(this.t.crashWindowMs > 0)) throw new RangeError('crashWindowMs must be > 0');
    this.speeds = new SpeedHistory(Math.max(this.t.accelWindowMs, this.t.crashWindowMs) * 2);
  }

  get thresholds(): EventThresholds {
    return this.t;
  }

  /** Feeds one reading; returns the events it completed (usually none). */
  push(reading: DetectorInput): DrivingEvent[] {
    const out: DrivingEvent[] = [];
    const { name, value, time } = reading;
    if (name === EVENT_INPUTS.speed && typeof value === 'number') this.onSpeed(time, value, out);
    else if (name === EVENT_INPUTS.battery && typeof value === 'number')
      this.onBattery(time, value, out);
    else if (name === EVENT_INPUTS.dtcs && typeof value === 'string') this.onDtcs(time, value, out);
    else if (name === EVENT_INPUTS.accelLongitudinal && typeof value === 'number') {
      this.lastAccel.lon = value;
      this.onAcceleration(time, out);
    } else if (name === EVENT_INPUTS.accelLateral && typeof value === 'number') {
      this.lastAccel.lat = value;
      this.onAcceleration(time, out);
    }
    return out;
  }

  /** Ends every open run (end of trip, shutdown) and returns the events they make. */
  flush(): DrivingEvent[] {
    const out: DrivingEvent[] = [];
    if (this.accelRun) out.push(this.harsh('harsh-acceleration', this.accelRun));
    if (this.brakeRun) out.push(this.harsh('harsh-braking', this.brakeRun));
    if (this.speedingRun) this.closeSpeeding(out);
    this.accelRun = this.brakeRun = this.speedingRun = undefined;
    return out;
  }

  private onSpeed(time: number, speedKmh: number, out: DrivingEvent[]): void {
    this.speeds.add(time, speedKmh);
    this.detectCrash(time, speedKmh, out);

    const before = this.speeds.at(time - this.t.accelWindowMs);
    if (before !== undefined) {
      const accel = (speedKmh - before) / KMH_PER_MS / (this.t.accelWindowMs / 1_000);
      this.accelRun = this.track(this.accelRun, accel >= this.t.harshAccelerationMs2 - EPSILON,
        time, accel, (a, b) => Math.max(a, b), 'harsh-acceleration', out); // prettier-ignore
      this.brakeRun = this.track(this.brakeRun, accel <= this.t.harshBrakingMs2 + EPSILON,
        time, accel, (a, b) => Math.min(a, b), 'harsh-braking', out); // prettier-ignore
    }

    const limit = this.t.speedLimitKmh;
    if (limit !== undefined) {
      if (speedKmh > limit) {
        if (this.speedingRun) {
          this.speedingRun.end = time;
          this.speedingRun.peak = Math.max(this.speedingRun.peak, speedKmh);
        } else this.speedingRun = { start: time, end: time, peak: speedKmh };
      } else if (this.speedingRun) {
        this.closeSpeeding(out);
      }
    }
  }

  private track(
    run: Run | undefined,
    active: boolean,
    time: number,
    value: number,
    better: (a: number, b: number) => number,
    type: 'harsh-acceleration' | 'harsh-braking',
    out: DrivingEvent[],
  ): Run | undefined {
    if (active) {
      if (!run) return { start: time, end: time, peak: value };
      run.end = time;
      run.peak = better(run.peak, value);
      return run;
    }
    if (run) out.push(this.harsh(type, run));
    return undefined;
  }

  private harsh(type: 'harsh-acceleration' | 'harsh-braking', run: Run): DrivingEvent {
    return {
      type,
      priority: 'high',
      start: run.start,
      end: run.end,
      data: { peakMs2: round(run.peak, 3), windowMs: this.t.accelWindowMs },
    };
  }

  private closeSpeeding(out: DrivingEvent[]): void {
    const run = this.speedingRun;
    this.speedingRun = undefined;
    if (!run || run.end - run.start < this.t.speedingMinMs) return;
    out.push({
      type: 'speeding',
      priority: 'normal',
      start: run.start,
      end: run.end,
      data: { maxKmh: round(run.peak, 2), limitKmh: this.t.speedLimitKmh ?? 0 },
    });
  }

  private detectCrash(time: number, speedKmh: number, out: DrivingEvent[]): void {
    if (time - this.lastCrashAt < CRASH_REFRACTORY_MS) return;
    const max = this.speeds.maxSince(time - this.t.crashWindowMs);
    if (max === undefined) return;
    const deltaV = max - speedKmh;
    if (deltaV >= this.t.crashDeltaVKmh) {
      this.lastCrashAt = time;
      out.push({
        type: 'crash',
        priority: 'critical',
        start: time,
        end: time,
        data: {
          trigger: 'delta-v',
          deltaVKmh: round(deltaV, 2),
          windowMs: this.t.crashWindowMs,
          speedBeforeKmh: round(max, 2),
        },
      });
    }
  }

  private onAcceleration(time: number, out: DrivingEvent[]): void {
    if (time - this.lastCrashAt < CRASH_REFRACTORY_MS) return;
    const magnitude = Math.hypot(this.lastAccel.lon, this.lastAccel.lat);
    if (magnitude >= this.t.crashAccelMs2) {
      this.lastCrashAt = time;
      out.push({
        type: 'crash',
        priority: 'critical',
        start: time,
        end: time,
        data: { trigger: 'acceleration', accelMs2: round(magnitude, 2) },
      });
    }
  }

  private onBattery(time: number, volts: number, out: DrivingEvent[]): void {
    if (volts < this.t.lowBatteryV) {
      this.lowBatterySince ??= time;
      this.lowBatteryMin = Math.min(this.lowBatteryMin, volts);
      if (!this.lowBatteryRaised && time - this.lowBatterySince >= this.t.lowBatteryMinMs) {
        this.lowBatteryRaised = true;
        out.push({
          type: 'low-battery',
          priority: 'normal',
          start: this.lowBatterySince,
          end: time,
          data: { minV: round(this.lowBatteryMin, 2), thresholdV: this.t.lowBatteryV },
        });
      }
    } else if (volts >= this.t.lowBatteryV + BATTERY_HYSTERESIS_V) {
      this.lowBatterySince = undefined;
      this.lowBatteryRaised = false;
      this.lowBatteryMin = Infinity;
    }
  }

  private onDtcs(time: number, list: string, out: DrivingEvent[]): void {
    const now = new Set(list.split(/[\s,;]+/).filter((c) => /^[PCBU][0-9A-F]{4}$/.test(c)));
    const before = this.dtcs ?? new Set<string>();
    for (const code of now) {
      if (!before.has(code)) {
        out.push({ type: 'dtc-set', priority: 'high', start: time, end: time, data: { code } });
      }
    }
    for (const code of before) {
      if (!now.has(code)) {
        out.push({
          type: 'dtc-cleared',
          priority: 'normal',
          start: time,
          end: time,
          data: { code },
        });
      }
    }
    this.dtcs = now;
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
