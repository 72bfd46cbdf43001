/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): delay = random(0, min(cap, base * 2^attempt)). Full jitter keeps a fleet of
 * gateways that lost the same broker from reconnecting in lockstep.
 */
export interface BackoffOptions {
  /** First ceiling in ms. */
  readonly baseMs: number;
  /** Largest ceiling in ms. */
  readonly capMs: number;
  /** Source of randomness in [0, 1); injectable so tests are deterministic. */
  readonly random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions): number {
  if (!Number.isInteger(attempt) || attempt < 0)
    throw new RangeError('attempt must be an integer ≥ 0');
  if (!(options.baseMs > 0) || !(options.capMs >= options.baseMs)) {
    throw new RangeError('backoff needs 0 < baseMs ≤ capMs');
  }
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 52));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
