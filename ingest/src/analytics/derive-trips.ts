import { TripTracker, type Trip, type TripInterval, type TripOptions } from '@enginechain/shared';
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

interface Position {
  readonly time: number;
  readonly latitude: number;
  readonly longitude: number;
}

interface Extra {
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
  const positions = positionsOf(readings);
  const scored = scoredEvents(events);

  let extra: Extra = { nightMs: 0, speedingMs: 0, speedingKm: 0 };
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
  const tracker = new TripTracker(options.trip ?? {}, 0, onInterval);
  for (const [name, value] of Object.entries(tracker.options)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new AnalyticsError('bad-option', `trip.${name} must be a finite number ≥ 0`);
    }
  }

  const trips: TripSummary[] = [];
  const finish = (trip: Trip, complete: boolean): void => {
    trips.push(
      summarise(trip, complete, extra, scored, positions.length > 0, speedingAbove, options.score),
    );
    extra = { nightMs: 0, speedingMs: 0, speedingKm: 0 };
  };
  for (const r of readings) {
    if (r.rank > 1) continue;
    const ended = tracker.push(r.name, r.value, r.time);
    if (ended) finish(ended, true);
  }
  const open = tracker.end();
  if (open) finish(open, false);
  return trips;
}

function summarise(
  trip: Trip,
  complete: boolean,
  extra: Extra,
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

function positionsOf(readings: readonly Reading[]): Position[] {
  const positions: Position[] = [];
  let latitude: number | undefined;
  let longitude: number | undefined;
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
