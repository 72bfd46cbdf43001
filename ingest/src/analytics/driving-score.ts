import { AnalyticsError } from './errors.js';

/**
 * The driving score: a weighted sum of four behaviour components, each worth 0–100 points,
 * plus a confidence from the distance driven. docs/scoring.md gives the formula, every
 * constant and why. Pure and order-independent: the totals are summed as integers (metres,
 * tenths of a second), so the same trips give the same score in any order, on any machine.
 */

/** Changes whenever the formula or a default changes meaning; stored beside every score. */
export const SCORE_FORMULA_VERSION = 'enginechain-score-1';

/** How much each behaviour counts; the four weights sum to 1. */
export interface ScoreWeights {
  readonly harshEvents: number;
  readonly speeding: number;
  readonly night: number;
  readonly idling: number;
}

/** The value at which a component has lost all its points (points fall linearly from 100 at 0). */
export interface ScoreLimits {
  /** Harsh accelerations plus harsh brakings per 100 km. */
  readonly harshEventsPer100Km: number;
  /** Share of moving time above the speeding threshold, 0–1. */
  readonly speedingShare: number;
  /** Share of moving time at night, 0–1. */
  readonly nightShare: number;
  /** Share of engine-on time spent stopped, 0–1. */
  readonly idlingShare: number;
}

export interface DrivingScoreOptions {
  readonly weights?: Partial<ScoreWeights>;
  readonly zeroPointsAt?: Partial<ScoreLimits>;
  /** Distance at which the confidence reaches 1, km. */
  readonly fullConfidenceKm?: number;
}

export const DEFAULT_SCORE_WEIGHTS: ScoreWeights = {
  harshEvents: 0.45,
  speeding: 0.3,
  night: 0.15,
  idling: 0.1,
};

export const DEFAULT_SCORE_LIMITS: ScoreLimits = {
  harshEventsPer100Km: 50,
  speedingShare: 0.2,
  nightShare: 1,
  idlingShare: 0.5,
};

export const DEFAULT_FULL_CONFIDENCE_KM = 500;

/** What drivingScore reads from a trip (a TripSummary has all of it). */
export interface ScorableTrip {
  readonly distanceKm: number;
  readonly movingS: number;
  readonly idleS: number;
  readonly nightS: number;
  readonly speedingS: number;
  readonly harshAccelerationCount: number;
  readonly harshBrakingCount: number;
}

export interface ScoreComponent {
  /** The measured figure (rate per 100 km or a 0–1 share). */
  readonly value: number;
  readonly weight: number;
  /** 100 × max(0, 1 − value / zeroPointsAt). */
  readonly points: number;
  readonly zeroPointsAt: number;
}

export interface DistanceComponent {
  /** Total distance, km. */
  readonly value: number;
  /** Always 0: distance changes how far the score can be trusted, not the score. */
  readonly weight: 0;
  /** The confidence in points: 100 × min(1, value / fullPointsAt). */
  readonly points: number;
  readonly fullPointsAt: number;
}

export interface DrivingScore {
  /** 0–100, one decimal; null when no distance was driven (nothing to score). */
  readonly score: number | null;
  readonly components: {
    readonly harshEvents: ScoreComponent;
    readonly speeding: ScoreComponent;
    readonly night: ScoreComponent;
    readonly idling: ScoreComponent;
    readonly distance: DistanceComponent;
  };
  /** 0–1: min(1, distanceKm / fullConfidenceKm), three decimals. */
  readonly confidence: number;
  readonly distanceKm: number;
  /** How many trips were scored. */
  readonly trips: number;
  readonly formulaVersion: string;
}

interface ResolvedScoreOptions {
  readonly weights: ScoreWeights;
  readonly limits: ScoreLimits;
  readonly fullConfidenceKm: number;
}

/** Scores trips together: totals first, then the components (a long trip weighs more). */
export function drivingScore(
  trips: readonly ScorableTrip[],
  options: DrivingScoreOptions = {},
): DrivingScore {
  if (!Array.isArray(trips)) throw new AnalyticsError('bad-input', 'trips must be an array');
  const o = resolveScoreOptions(options);
  // Integers: metres, tenths of a second, counts. Exact sums, so trip order cannot matter.
  let metres = 0;
  let moving = 0;
  let idle = 0;
  let night = 0;
  let speeding = 0;
  let harsh = 0;
  trips.forEach((trip, i) => {
    checkTrip(trip, i);
    metres += Math.round(trip.distanceKm * 1_000);
    moving += Math.round(trip.movingS * 10);
    idle += Math.round(trip.idleS * 10);
    night += Math.min(Math.round(trip.nightS * 10), Math.round(trip.movingS * 10));
    speeding += Math.min(Math.round(trip.speedingS * 10), Math.round(trip.movingS * 10));
    harsh += trip.harshAccelerationCount + trip.harshBrakingCount;
  });
  const km = metres / 1_000;
  const component = (value: number, weight: number, zeroPointsAt: number): ScoreComponent => ({
    value,
    weight,
    points: 100 * Math.max(0, 1 - value / zeroPointsAt),
    zeroPointsAt,
  });
  const { weights: w, limits } = o;
  const harshEvents = component(
    metres > 0 ? (harsh * 100) / km : 0,
    w.harshEvents,
    limits.harshEventsPer100Km,
  );
  const speedingC = component(moving > 0 ? speeding / moving : 0, w.speeding, limits.speedingShare);
  const nightC = component(moving > 0 ? night / moving : 0, w.night, limits.nightShare);
  const idling = component(
    moving + idle > 0 ? idle / (moving + idle) : 0,
    w.idling,
    limits.idlingShare,
  );
  const confidence = Math.min(1, km / o.fullConfidenceKm);
  const weighted =
    harshEvents.weight * harshEvents.points +
    speedingC.weight * speedingC.points +
    nightC.weight * nightC.points +
    idling.weight * idling.points;
  return {
    score: metres > 0 ? round(weighted, 1) : null,
    components: {
      harshEvents,
      speeding: speedingC,
      night: nightC,
      idling,
      distance: {
        value: km,
        weight: 0,
        points: 100 * confidence,
        fullPointsAt: o.fullConfidenceKm,
      },
    },
    confidence: round(confidence, 3),
    distanceKm: km,
    trips: trips.length,
    formulaVersion: SCORE_FORMULA_VERSION,
  };
}

export function resolveScoreOptions(
  options: DrivingScoreOptions | undefined,
): ResolvedScoreOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new AnalyticsError('bad-input', 'score options must be an object');
  }
  const weights = { ...DEFAULT_SCORE_WEIGHTS, ...options.weights };
  const limits = { ...DEFAULT_SCORE_LIMITS, ...options.zeroPointsAt };
  const fullConfidenceKm = options.fullConfidenceKm ?? DEFAULT_FULL_CONFIDENCE_KM;
  let sum = 0;
  for (const [name, value] of Object.entries(weights)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new AnalyticsError('bad-option', `weights.${name} must be a finite number ≥ 0`);
    }
    sum += value;
  }
  if (Math.abs(sum - 1) > 1e-9) {
    throw new AnalyticsError('bad-option', `weights must sum to 1 (they sum to ${sum})`);
  }
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new AnalyticsError('bad-option', `zeroPointsAt.${name} must be a finite number > 0`);
    }
  }
  if (
    typeof fullConfidenceKm !== 'number' ||
    !(fullConfidenceKm > 0) ||
    !Number.isFinite(fullConfidenceKm)
  ) {
    throw new AnalyticsError('bad-option', 'fullConfidenceKm must be a finite number > 0');
  }
  return { weights, limits, fullConfidenceKm };
}

const TRIP_FIGURES = ['distanceKm', 'movingS', 'idleS', 'nightS', 'speedingS'] as const;
const TRIP_COUNTS = ['harshAccelerationCount', 'harshBrakingCount'] as const;
/** Tolerance for night and speeding time against moving time: the summaries' 0.1 s rounding. */
const ROUNDING_S = 0.1;

function checkTrip(trip: unknown, i: number): asserts trip is ScorableTrip {
  if (typeof trip !== 'object' || trip === null) {
    throw new AnalyticsError('bad-input', `trips[${i}] must be an object`);
  }
  const t = trip as Record<string, unknown>;
  for (const field of TRIP_FIGURES) {
    const v = t[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new AnalyticsError('bad-trip', `trips[${i}].${field} must be a finite number ≥ 0`);
    }
  }
  for (const field of TRIP_COUNTS) {
    const v = t[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new AnalyticsError('bad-trip', `trips[${i}].${field} must be an integer ≥ 0`);
    }
  }
  const moving = t.movingS as number;
  for (const field of ['nightS', 'speedingS'] as const) {
    if ((t[field] as number) > moving + ROUNDING_S) {
      throw new AnalyticsError('bad-trip', `trips[${i}].${field} exceeds movingS`);
    }
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
