/**
 * Trips from engine and speed state, and distance by integrating speed (trapezoid rule): the
 * agent cannot read the odometer over standard OBD-II, and integration of the wheel speed is
 * what a court can check against the signed samples themselves. The agent runs it live and the
 * ingestion node reruns it on the stored signed samples: one trip model, so both agree.
 */

export interface Trip {
  readonly start: number;
  readonly end: number;
  readonly distanceKm: number;
  readonly maxSpeedKmh: number;
  /** Time with the engine running and the vehicle stopped, ms. */
  readonly idleMs: number;
  /** Time with speed above zero, ms. */
  readonly movingMs: number;
}

export interface TripOptions {
  /** Engine speed below this counts as engine off, rpm. */
  readonly engineOffRpm: number;
  /** The trip ends after the engine has been off this long, ms. */
  readonly endAfterEngineOffMs: number;
  /** Without engine speed readings, the trip ends after standing still this long, ms. */
  readonly endAfterStandstillMs: number;
  /** Two speed readings further apart than this are not integrated: the gap is unknown. */
  readonly maxGapMs: number;
}

export const DEFAULT_TRIP_OPTIONS: TripOptions = {
  engineOffRpm: 100,
  endAfterEngineOffMs: 30_000,
  endAfterStandstillMs: 300_000,
  maxGapMs: 5_000,
};

/**
 * One stretch between two consecutive speed readings of a trip that the tracker integrated
 * (gaps longer than `maxGapMs` are never reported). Speed is linear between the two ends, the
 * same assumption the trapezoid distance makes, so figures derived from intervals (time above
 * a speed, time at night) add up exactly with the trip's distance, moving and idle time.
 */
export interface TripInterval {
  /** ms */
  readonly from: number;
  /** ms, > from */
  readonly to: number;
  readonly fromKmh: number;
  readonly toKmh: number;
  readonly km: number;
  /**
   * `moving`: counted in movingMs (either end above zero); `idle`: counted in idleMs (stopped,
   * engine not known to be off); `stopped`: stopped with the engine off, counted in neither.
   */
  readonly kind: 'moving' | 'idle' | 'stopped';
}

/** Called for every integrated interval, before the reading that closes it can end the trip. */
export type TripIntervalListener = (interval: TripInterval) => void;

const SPEED = 'Vehicle.Speed';
const ENGINE_SPEED = 'Vehicle.Powertrain.CombustionEngine.Speed';

/**
 * Everything a tracker holds (plain data, copied in and out): a tracker built from the state
 * another one had goes on exactly as that one would have, given the same options.
 */
export interface TripTrackerState {
  readonly odometerKm: number;
  /** The open trip, or null between trips (a tracker between trips holds nothing else). */
  readonly trip: Readonly<OpenTrip> | null;
}

export interface OpenTrip {
  start: number;
  last: number;
  distanceKm: number;
  maxSpeedKmh: number;
  idleMs: number;
  movingMs: number;
  lastSpeed: { time: number; kmh: number } | undefined;
  engineOn: boolean | undefined;
  engineOffSince: number | undefined;
  stillSince: number | undefined;
}

export class TripTracker {
  private readonly o: TripOptions;
  private trip: OpenTrip | undefined;
  /** Lifetime distance, km, across trips (persisted by the agent). */
  odometerKm: number;

  constructor(
    options: Partial<TripOptions> = {},
    odometerKm = 0,
    private readonly onInterval?: TripIntervalListener,
  ) {
    this.o = { ...DEFAULT_TRIP_OPTIONS, ...options };
    this.odometerKm = odometerKm;
  }

  get options(): TripOptions {
    return this.o;
  }

  get current(): Trip | undefined {
    return this.trip ? toTrip(this.trip) : undefined;
  }

  /** A copy of what the tracker holds now. */
  get state(): TripTrackerState {
    return { odometerKm: this.odometerKm, trip: this.trip ? copyOpenTrip(this.trip) : null };
  }

  /** A tracker that goes on from `state` (another tracker's, with the same options). */
  static fromState(
    state: TripTrackerState,
    options: Partial<TripOptions> = {},
    onInterval?: TripIntervalListener,
  ): TripTracker {
    const tracker = new TripTracker(options, state.odometerKm, onInterval);
    tracker.trip = state.trip ? copyOpenTrip(state.trip) : undefined;
    return tracker;
  }

  /** Feeds one reading; returns a trip when this reading ended one. */
  push(name: string, value: number | string | boolean, time: number): Trip | undefined {
    if (typeof value !== 'number') return undefined;
    if (name === ENGINE_SPEED) return this.onEngine(time, value);
    if (name === SPEED) return this.onSpeed(time, value);
    return undefined;
  }

  /** Ends the open trip (shutdown). */
  end(): Trip | undefined {
    const t = this.trip;
    this.trip = undefined;
    return t ? toTrip(t) : undefined;
  }

  private onEngine(time: number, rpm: number): Trip | undefined {
    const on = rpm >= this.o.engineOffRpm;
    if (!this.trip) {
      if (!on) return undefined;
      this.trip = this.open(time);
    }
    const t = this.trip;
    t.last = Math.max(t.last, time);
    t.engineOn = on;
    if (on) t.engineOffSince = undefined;
    else {
      t.engineOffSince ??= time;
      if (time - t.engineOffSince >= this.o.endAfterEngineOffMs) return this.end();
    }
    return undefined;
  }

  private onSpeed(time: number, kmh: number): Trip | undefined {
    if (!this.trip) {
      if (kmh <= 0) return undefined;
      this.trip = this.open(time);
    }
    const t = this.trip;
    const prev = t.lastSpeed;
    if (prev && time > prev.time && time - prev.time <= this.o.maxGapMs) {
      const dt = time - prev.time;
      const km = ((prev.kmh + kmh) / 2) * (dt / 3_600_000);
      t.distanceKm += km;
      this.odometerKm += km;
      let kind: TripInterval['kind'] = 'stopped';
      if (prev.kmh > 0 || kmh > 0) {
        t.movingMs += dt;
        kind = 'moving';
      } else if (t.engineOn !== false) {
        t.idleMs += dt;
        kind = 'idle';
      }
      this.onInterval?.({ from: prev.time, to: time, fromKmh: prev.kmh, toKmh: kmh, km, kind });
    }
    if (!prev || time > prev.time) t.lastSpeed = { time, kmh };
    t.last = Math.max(t.last, time);
    t.maxSpeedKmh = Math.max(t.maxSpeedKmh, kmh);
    if (kmh > 0) t.stillSince = undefined;
    else {
      t.stillSince ??= time;
      // Only without engine readings: a car idling at a long red light is still on its trip.
      if (t.engineOn === undefined && time - t.stillSince >= this.o.endAfterStandstillMs) {
        return this.end();
      }
    }
    return undefined;
  }

  private open(time: number): OpenTrip {
    return {
      start: time,
      last: time,
      distanceKm: 0,
      maxSpeedKmh: 0,
      idleMs: 0,
      movingMs: 0,
      lastSpeed: undefined,
      engineOn: undefined,
      engineOffSince: undefined,
      stillSince: undefined,
    };
  }
}

const toTrip = (t: OpenTrip): Trip => ({
  start: t.start,
  end: t.last,
  distanceKm: t.distanceKm,
  maxSpeedKmh: t.maxSpeedKmh,
  idleMs: t.idleMs,
  movingMs: t.movingMs,
});

const copyOpenTrip = (t: Readonly<OpenTrip>): OpenTrip => ({
  ...t,
  lastSpeed: t.lastSpeed && { ...t.lastSpeed },
});
