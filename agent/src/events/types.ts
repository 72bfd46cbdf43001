/** A driving event the agent detected; it travels in the batch's `events` section. */
export interface DrivingEvent {
  readonly type: DrivingEventType;
  /** Delivery priority: crash traces first, then the other events, then routine batches. */
  readonly priority: 'critical' | 'high' | 'normal';
  /** When the event began (ms, same clock as the readings). */
  readonly start: number;
  /** When it ended; equal to `start` for instantaneous events. */
  readonly end: number;
  /** Type-specific figures (peak acceleration, ΔV, DTC code, …), numbers and strings only. */
  readonly data: Readonly<Record<string, number | string>>;
}

export type DrivingEventType =
  | 'harsh-acceleration'
  | 'harsh-braking'
  | 'speeding'
  | 'dtc-set'
  | 'dtc-cleared'
  | 'low-battery'
  | 'crash';

/**
 * Thresholds, with the defaults the issue sets. Documented in docs/events.md; every one is
 * configurable because fleets and insurers disagree on what "harsh" means.
 */
export interface EventThresholds {
  /** m/s², over `accelWindowMs`. */
  readonly harshAccelerationMs2: number;
  /** m/s² (negative), over `accelWindowMs`. */
  readonly harshBrakingMs2: number;
  readonly accelWindowMs: number;
  /** km/h; undefined turns speeding detection off. */
  readonly speedLimitKmh: number | undefined;
  /** How long the limit must be exceeded before it counts, ms. */
  readonly speedingMinMs: number;
  /** V; below this for `lowBatteryMinMs` raises low-battery. */
  readonly lowBatteryV: number;
  readonly lowBatteryMinMs: number;
  /** Crash: a speed drop of at least this many km/h … */
  readonly crashDeltaVKmh: number;
  /** … within this many ms (49 CFR 563 records ΔV over 150 ms windows). */
  readonly crashWindowMs: number;
  /** Crash also when the horizontal acceleration magnitude reaches this, m/s² (≈ 4 g). */
  readonly crashAccelMs2: number;
}

export const DEFAULT_THRESHOLDS: EventThresholds = {
  harshAccelerationMs2: 2.5,
  harshBrakingMs2: -3.0,
  accelWindowMs: 1_000,
  speedLimitKmh: undefined,
  speedingMinMs: 5_000,
  lowBatteryV: 11.8,
  lowBatteryMinMs: 10_000,
  crashDeltaVKmh: 8,
  crashWindowMs: 150,
  crashAccelMs2: 40,
};
