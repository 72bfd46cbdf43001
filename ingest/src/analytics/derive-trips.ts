import {
  TripTracker,
  type Trip,
  type TripInterval,
  type TripOptions,
  type TripTrackerState,
} from '@enginechain/shared';
import type { StoredEvent, StoredSample } from '../storage/ingest-store.js';
import { drivingScore, resolveScoreOptions, type DrivingScoreOptions } from './driving-score.js';
import { AnalyticsError } from './errors.js';
import {
  isNightByLocalHours,
  isNightBySun,
  resolveNightOptions,
  type NightOptions,
} from './night.js';

/**
 * Trips recomputed on the node from the stored signed samples, with the agent's own
 * TripTracker, so a trip here is the trip the device saw, and anyone holding the evidence can
 * rerun it. Pure: no clock, no locale, no I/O; the same samples and events in any order give
 * the same trips.
 */

export const TRIP_SIGNALS = {
  speed: { name: 'Vehicle.Speed', unit: 'km/h' },
  engineSpeed: { name: 'Vehicle.Powertrain.CombustionEngine.Speed', unit: 'rpm' },
  latitude: { name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees' },
  longitude: { name: 'Vehicle.CurrentLocation.Longitude', unit: 'degrees' },
} as const;

/** Event types as the agent emits them (agent/src/events/types.ts). */
export const SCORED_EVENT_TYPES = {
  harshAcceleration: 'harsh-acceleration',
  harshBraking: 'harsh-braking',
  crash: 'crash',
} as const;

export type TripSample = Pick<StoredSample, 'name' | 'time' | 'value' | 'unit'>;
export type TripEvent = Pick<StoredEvent, 'type' | 'start'>;

export interface DeriveTripsOptions {
  /** The TripTracker's options (engine-off rpm, end delays, largest gap integrated). */
  readonly trip?: Partial<TripOptions>;
  /** Time above this speed counts as speeding, km/h. Default 120. */
  readonly speedingAboveKmh?: number;
  readonly night?: Partial<NightOptions>;
  /** For each trip's own score. */
  readonly score?: DrivingScoreOptions;
}

export const DEFAULT_SPEEDING_ABOVE_KMH = 120;

export interface TripSummary {
  /** `trip-<start ms>`: stable while the trip grows and across recomputations. */
  readonly id: string;
  /** Unix ms of the first reading of the trip. */
  readonly start: number;
  /** Unix ms of its last reading. */
  readonly end: number;
  /** False for a trip the data ends in (still driving, or batches not yet received). */
  readonly complete: boolean;
  /** Trapezoid integral of Vehicle.Speed, km, 3 decimals. */
  readonly distanceKm: number;
  /** end − start, s. Seconds below have one decimal. */
  readonly durationS: number;
  /** Time with speed above zero. */
  readonly movingS: number;
  /** Time stopped with the engine running. */
  readonly idleS: number;
  /** Moving time at night. */
  readonly nightS: number;
  /** Moving time above `speedingAboveKmh`. */
  readonly speedingS: number;
  /** Distance above `speedingAboveKmh`, km. */
  readonly speedingKm: number;
  readonly maxSpeedKmh: number;
  readonly harshAccelerationCount: number;
  readonly harshBrakingCount: number;
  readonly crashCount: number;
  /** `sun` when a GNSS position was known, else the fallback local-hours window. */
  readonly nightBasis: 'sun' | 'local-hours';
  readonly speedingAboveKmh: number;
  /** drivingScore of this trip alone (null when it did not move). */
  readonly score: number | null;
}

/** A GNSS position, from a latitude and a longitude reading. */
export interface GnssFix {
  readonly time: number;
  readonly latitude: number;
  readonly longitude: number;
}

/** What a trip's intervals add up to beyond the tracker's own figures. */
export interface TripSums {
  nightMs: number;
  speedingMs: number;
  speedingKm: number;
}

// The order of readings with the same timestamp: engine first, as the agent's merged stream
// polls it, so that a trip opening on a key-on sees the engine before the first speed.
const SIGNALS_IN_ORDER = [
  TRIP_SIGNALS.engineSpeed,
  TRIP_SIGNALS.speed,
  TRIP_SIGNALS.latitude,
  TRIP_SIGNALS.longitude,
] as const;
const SIGNAL_RANK = new Map<string, number>(SIGNALS_IN_ORDER.map((s, i) => [s.name, i]));

interface Reading {
  readonly rank: number;
  readonly name: string;
  readonly time: number;
  readonly value: number;
}

export function deriveTrips(
  samples: readonly TripSample[],
  events: readonly TripEvent[],
  options: DeriveTripsOptions = {},
): TripSummary[] {
  return derive(undefined, samples, events, undefined, options)!.trips;
}

/**
 * Where a derivation stood at `at`, to go on from there with `continueTrips` instead of
 * reading a vehicle's whole history again: every reading before `at` is in it, none after.
 * Plain data; callers keep it and hand it back unchanged.
 */
export interface TripDerivationState {
  readonly at: number;
  /** Trips that ended before `at`, with their night and speeding sums. */
  readonly ended: readonly { readonly trip: Trip; readonly extra: Readonly<TripSums> }[];
  readonly tracker: TripTrackerState;
  /** The open trip's night and speeding sums so far. */
  readonly extra: Readonly<TripSums>;
  /**
   * The fixes a night verdict after `at` may still use: an interval that closes after `at`
   * began at most maxGapMs before it, and its verdict takes the latest fix before its middle.
   */
  readonly positions: readonly GnssFix[];
  /** The last latitude and longitude before `at`: a later reading of one pairs with the other. */
  readonly latitude: number | undefined;
  readonly longitude: number | undefined;
}

export interface TripDerivation {
  readonly trips: TripSummary[];
  /** Where the derivation stood at `saveAt`. */
  readonly state: TripDerivationState;
}

/**
 * `deriveTrips` in steps, for a history that grows at its end: the trips of every reading
 * before `from.at` (none: from the start) and `samples`, which must all be at or after
 * `from.at`, the same as deriveTrips over all of them; and the state at `saveAt` to go on
 * from next time. `events` are all the vehicle's events. Undefined when `samples` bring the
 * vehicle's first GNSS fix: it decides the night of the time before it too (deriveTrips uses
 * the first fix for the time before it), so only a derivation from the start is right then.
 * The same options every step.
 */
export function continueTrips(
  from: TripDerivationState | undefined,
  samples: readonly TripSample[],
  events: readonly TripEvent[],
  saveAt: number,
  options: DeriveTripsOptions = {},
): TripDerivation | undefined {
  if (typeof saveAt !== 'number' || Number.isNaN(saveAt))
    throw new AnalyticsError('bad-input', 'saveAt must be a number');
  // A state saved before `from.at` would claim readings it already holds are still to come.
  if (from && saveAt < from.at)
    throw new AnalyticsError('bad-input', `saveAt ${saveAt} is before the state's time ${from.at}`);
  return derive(from, samples, events, saveAt, options) as TripDerivation | undefined;
}

interface Ended {
  readonly trip: Trip;
  readonly extra: TripSums;
  readonly complete: boolean;
}

function derive(
  from: TripDerivationState | undefined,
  samples: readonly TripSample[],
  events: readonly TripEvent[],
  saveAt: number | undefined,
  options: DeriveTripsOptions,
): { trips: TripSummary[]; state: TripDerivationState | undefined } | undefined {
  if (!Array.isArray(samples)) throw new AnalyticsError('bad-input', 'samples must be an array');
  if (!Array.isArray(events)) throw new AnalyticsError('bad-input', 'events must be an array');
  if (typeof options !== 'object' || options === null) {
    throw new AnalyticsError('bad-input', 'options must be an object');
  }
  const speedingAbove = options.speedingAboveKmh ?? DEFAULT_SPEEDING_ABOVE_KMH;
  if (typeof speedingAbove !== 'number' || !Number.isFinite(speedingAbove) || speedingAbove <= 0) {
    throw new AnalyticsError('bad-option', 'speedingAboveKmh must be a finite number > 0');
  }
  const night = resolveNightOptions(options.night);
  resolveScoreOptions(options.score); // bad score options fail before any work
  const readings = sortedReadings(samples);
  if (from && readings.length > 0 && readings[0]!.time < from.at) {
    throw new AnalyticsError(
      'bad-input',
      `samples must be at or after the state's time ${from.at}, got one at ${readings[0]!.time}`,
    );
  }
  const carried = from?.positions ?? [];
  const positions = [...carried, ...positionsOf(readings, from?.latitude, from?.longitude)];
  // The first fix ever decides the night of everything before it: that was derived without.
  if (from && carried.length === 0 && positions.length > 0) return undefined;
  const scored = scoredEvents(events);

  let extra: TripSums = from ? { ...from.extra } : { nightMs: 0, speedingMs: 0, speedingKm: 0 };
  let positionIndex = 0;
  const isNight = (time: number): boolean => {
    if (positions.length === 0) return isNightByLocalHours(time, night);
    while (positionIndex + 1 < positions.length && positions[positionIndex + 1]!.time <= time) {
      positionIndex++;
    }
    const p = positions[positionIndex]!;
    return isNightBySun(time, p.latitude, p.longitude, night.sunBelowDeg);
  };
  const onInterval = (i: TripInterval): void => {
    if (i.kind !== 'moving') return;
    const dt = i.to - i.from;
    // One verdict per interval, at its middle: intervals are at most maxGapMs (5 s) long.
    if (isNight((i.from + i.to) / 2)) extra.nightMs += dt;
    const above = timeAbove(i, speedingAbove);
    extra.speedingMs += above.ms;
    extra.speedingKm += above.km;
  };
  const tripOptions = options.trip ?? {};
  const tracker = from
    ? TripTracker.fromState(from.tracker, tripOptions, onInterval)
    : new TripTracker(tripOptions, 0, onInterval);
  for (const [name, value] of Object.entries(tracker.options)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new AnalyticsError('bad-option', `trip.${name} must be a finite number ≥ 0`);
    }
  }

  const ended: Ended[] = from ? from.ended.map((e) => ({ ...e, complete: true })) : [];
  const finish = (trip: Trip, complete: boolean): void => {
    ended.push({ trip, extra, complete });
    extra = { nightMs: 0, speedingMs: 0, speedingKm: 0 };
  };
  let latitude = from?.latitude;
  let longitude = from?.longitude;
  let state: TripDerivationState | undefined;
  const save = (at: number): TripDerivationState => {
    const maxGapMs = tracker.options.maxGapMs;
    const before = positions.filter((p) => p.time < at);
    let keepFrom = before.findIndex((p) => p.time >= at - maxGapMs);
    if (keepFrom === -1) keepFrom = before.length;
    return {
      at,
      ended: ended.map(({ trip, extra: e }) => ({ trip, extra: { ...e } })),
      tracker: tracker.state,
      extra: { ...extra },
      positions: before.slice(Math.max(0, keepFrom - 1)),
      latitude,
      longitude,
    };
  };
  for (const r of readings) {
    if (saveAt !== undefined && state === undefined && r.time >= saveAt) state = save(saveAt);
    if (r.rank === 2) latitude = r.value;
    else if (r.rank === 3) longitude = r.value;
    if (r.rank > 1) continue;
    const closed = tracker.push(r.name, r.value, r.time);
    if (closed) finish(closed, true);
  }
  if (saveAt !== undefined && state === undefined) state = save(saveAt);
  const open = tracker.end();
  if (open) finish(open, false);
  const hasPositions = positions.length > 0;
  return {
    trips: ended.map((e) =>
      summarise(e.trip, e.complete, e.extra, scored, hasPositions, speedingAbove, options.score),
    ),
    state,
  };
}

function summarise(
  trip: Trip,
  complete: boolean,
  extra: TripSums,
  events: ScoredEvents,
  hasPositions: boolean,
  speedingAboveKmh: number,
  scoreOptions: DrivingScoreOptions | undefined,
): TripSummary {
  const count = (starts: readonly number[]) =>
    upperBound(starts, trip.end) - lowerBound(starts, trip.start);
  const base = {
    id: `trip-${trip.start}`,
    start: trip.start,
    end: trip.end,
    complete,
    distanceKm: round(trip.distanceKm, 3),
    durationS: round((trip.end - trip.start) / 1_000, 1),
    movingS: round(trip.movingMs / 1_000, 1),
    idleS: round(trip.idleMs / 1_000, 1),
    nightS: round(Math.min(extra.nightMs, trip.movingMs) / 1_000, 1),
    speedingS: round(Math.min(extra.speedingMs, trip.movingMs) / 1_000, 1),
    speedingKm: round(extra.speedingKm, 3),
    maxSpeedKmh: round(trip.maxSpeedKmh, 2),
    harshAccelerationCount: count(events.harshAcceleration),
    harshBrakingCount: count(events.harshBraking),
    crashCount: count(events.crash),
    nightBasis: hasPositions ? ('sun' as const) : ('local-hours' as const),
    speedingAboveKmh,
  };
  return { ...base, score: drivingScore([base], scoreOptions).score };
}

/** Time and distance above `limit` while speed goes linearly from fromKmh to toKmh. */
function timeAbove(i: TripInterval, limit: number): { ms: number; km: number } {
  const dt = i.to - i.from;
  const lo = Math.min(i.fromKmh, i.toKmh);
  const hi = Math.max(i.fromKmh, i.toKmh);
  if (hi <= limit) return { ms: 0, km: 0 };
  if (lo >= limit) return { ms: dt, km: i.km };
  const ms = (dt * (hi - limit)) / (hi - lo);
  return { ms, km: (((hi + limit) / 2) * ms) / 3_600_000 };
}

function sortedReadings(samples: readonly TripSample[]): Reading[] {
  const out: Reading[] = [];
  samples.forEach((s, i) => {
    if (typeof s !== 'object' || s === null) {
      throw new AnalyticsError('bad-input', `samples[${i}] must be an object`);
    }
    const rank = SIGNAL_RANK.get(s.name);
    if (rank === undefined) return;
    const where = `samples[${i}] (${s.name})`;
    if (typeof s.time !== 'number' || !Number.isFinite(s.time)) {
      throw new AnalyticsError('bad-sample', `${where}.time must be a finite number`);
    }
    const v = s.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new AnalyticsError('bad-sample', `${where}.value must be a finite number`);
    }
    const expected = SIGNALS_IN_ORDER[rank]!;
    if (s.unit !== expected.unit) {
      throw new AnalyticsError('bad-sample', `${where}.unit must be "${expected.unit}"`);
    }
    const limit = rank === 2 ? 90 : rank === 3 ? 180 : undefined;
    if (limit === undefined ? v < 0 : Math.abs(v) > limit) {
      throw new AnalyticsError(
        'bad-sample',
        `${where}.value must be ${limit === undefined ? '≥ 0' : `within ±${limit}`}`,
      );
    }
    out.push({ rank, name: s.name, time: s.time, value: v });
  });
  // A total order on the content: the stored order (or a second device's duplicates) can
  // never change a trip. The store already returns samples by time, often in this order.
  const order = (a: Reading, b: Reading) => a.time - b.time || a.rank - b.rank || a.value - b.value;
  for (let i = 1; i < out.length; i++) {
    if (order(out[i - 1]!, out[i]!) > 0) return out.sort(order);
  }
  return out;
}

/** The fixes the readings make, pairing each with the other's last value (from those given). */
function positionsOf(
  readings: readonly Reading[],
  latitude: number | undefined,
  longitude: number | undefined,
): GnssFix[] {
  const positions: GnssFix[] = [];
  for (const r of readings) {
    if (r.rank === 2) latitude = r.value;
    else if (r.rank === 3) longitude = r.value;
    else continue;
    if (latitude !== undefined && longitude !== undefined) {
      positions.push({ time: r.time, latitude, longitude });
    }
  }
  return positions;
}

interface ScoredEvents {
  readonly harshAcceleration: number[];
  readonly harshBraking: number[];
  readonly crash: number[];
}

function scoredEvents(events: readonly TripEvent[]): ScoredEvents {
  const byType: ScoredEvents = { harshAcceleration: [], harshBraking: [], crash: [] };
  const keys = Object.entries(SCORED_EVENT_TYPES) as [keyof ScoredEvents, string][];
  events.forEach((e, i) => {
    if (typeof e !== 'object' || e === null) {
      throw new AnalyticsError('bad-input', `events[${i}] must be an object`);
    }
    if (typeof e.type !== 'string') {
      throw new AnalyticsError('bad-event', `events[${i}].type must be a string`);
    }
    if (typeof e.start !== 'number' || !Number.isFinite(e.start)) {
      throw new AnalyticsError('bad-event', `events[${i}].start must be a finite number`);
    }
    const key = keys.find(([, type]) => type === e.type)?.[0];
    if (key) byType[key].push(e.start);
  });
  for (const starts of Object.values(byType) as number[][]) {
    starts.sort((a, b) => a - b);
    // The same event stored twice (a batch re-sent under a new sequence number) counts once:
    // one run of one type cannot start twice at the same millisecond.
    let w = 0;
    for (let r = 0; r < starts.length; r++) {
      if (r === 0 || starts[r] !== starts[r - 1]) starts[w++] = starts[r]!;
    }
    starts.length = w;
  }
  return byType;
}

/** First index with a[i] ≥ x. */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with a[i] > x. */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
