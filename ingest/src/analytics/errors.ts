/**
 * The analytics error codes, one table (after fastify's lib/errors.js). A code never changes
 * meaning; docs/scoring.md lists each with how to solve it, and errors.test.ts keeps this table
 * and the docs in step. The functions are pure and their inputs come from the node's own store,
 * so every error here is a caller's mistake or corrupt storage, never a driver's verdict.
 */
export const ANALYTICS_ERROR_CODES = {
  'bad-input': 'An argument has the wrong type (samples, events and trips are arrays of objects)',
  'bad-sample':
    'A speed, engine speed or GNSS sample has a non-finite time, a wrong value type or unit, or an impossible value',
  'bad-event': 'An event has no string type or a non-finite start time',
  'bad-trip':
    'A trip given to drivingScore has a missing, negative or non-finite figure, or more night or speeding time than moving time',
  'bad-option':
    'An option is out of range (weights not ≥ 0 summing to 1, limits ≤ 0, hours outside 0–24, UTC offset beyond ±14 h)',
} as const;

export type AnalyticsErrorCode = keyof typeof ANALYTICS_ERROR_CODES;

export class AnalyticsError extends Error {
  override readonly name = 'AnalyticsError';
  constructor(
    readonly code: AnalyticsErrorCode,
    message?: string,
  ) {
    super(message ?? ANALYTICS_ERROR_CODES[code]);
  }
}
