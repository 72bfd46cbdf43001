export * from './errors.js';
export { solarElevationDeg } from './sun.js';
export {
  DEFAULT_NIGHT_OPTIONS,
  isNightByLocalHours,
  isNightBySun,
  type NightOptions,
} from './night.js';
export {
  DEFAULT_FULL_CONFIDENCE_KM,
  DEFAULT_SCORE_LIMITS,
  DEFAULT_SCORE_WEIGHTS,
  SCORE_FORMULA_VERSION,
  drivingScore,
  type DistanceComponent,
  type DrivingScore,
  type DrivingScoreOptions,
  type ScorableTrip,
  type ScoreComponent,
  type ScoreLimits,
  type ScoreWeights,
} from './driving-score.js';
export {
  DEFAULT_SPEEDING_ABOVE_KMH,
  SCORED_EVENT_TYPES,
  TRIP_SIGNALS,
  continueTrips,
  deriveTrips,
  type DeriveTripsOptions,
  type TripDerivation,
  type TripDerivationState,
  type TripEvent,
  type TripSample,
  type TripSummary,
} from './derive-trips.js';
