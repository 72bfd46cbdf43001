import { AnalyticsError } from './errors.js';
import { solarElevationDeg } from './sun.js';

/**
 * What "night" means for the score. With a GNSS position: the sun's centre is below
 * `sunBelowDeg` there and then (default −0.833°, between official sunset and sunrise). Without
 * one: a fixed window of local clock hours, local time being UTC plus a configured offset,
 * because the node must not ask an internet time-zone service and a court must get the same
 * answer years later.
 */
export interface NightOptions {
  /** Geometric sun elevation below which it is night, degrees (−0.833: sunset to sunrise). */
  readonly sunBelowDeg: number;
  /** Fallback without GNSS: local time = UTC + this, minutes (−840 … 840). */
  readonly utcOffsetMinutes: number;
  /** Fallback window start, local hour (0 ≤ h < 24), inclusive. */
  readonly fromHour: number;
  /** Fallback window end, local hour (0 ≤ h < 24), exclusive; may be before fromHour (wraps midnight). */
  readonly toHour: number;
}

export const DEFAULT_NIGHT_OPTIONS: NightOptions = {
  sunBelowDeg: -0.833,
  utcOffsetMinutes: 0,
  fromHour: 22,
  toHour: 6,
};

export function resolveNightOptions(options: Partial<NightOptions> | undefined): NightOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new AnalyticsError('bad-input', 'night options must be an object');
  }
  const o = { ...DEFAULT_NIGHT_OPTIONS, ...options };
  const number = (value: unknown, field: string, min: number, max: number) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new AnalyticsError(
        'bad-option',
        `night.${field} must be a number within ${min}…${max}`,
      );
    }
  };
  number(o.sunBelowDeg, 'sunBelowDeg', -18, 0);
  number(o.utcOffsetMinutes, 'utcOffsetMinutes', -840, 840);
  number(o.fromHour, 'fromHour', 0, 23.999_999);
  number(o.toHour, 'toHour', 0, 23.999_999);
  return o;
}

/** Night by the sun at a position (see solarElevationDeg for the arguments). */
export function isNightBySun(
  timeMs: number,
  latitude: number,
  longitude: number,
  sunBelowDeg = DEFAULT_NIGHT_OPTIONS.sunBelowDeg,
): boolean {
  return solarElevationDeg(timeMs, latitude, longitude) < sunBelowDeg;
}

/** Night by the fallback window of local clock hours (no position known). */
export function isNightByLocalHours(
  timeMs: number,
  options: Pick<NightOptions, 'utcOffsetMinutes' | 'fromHour' | 'toHour'> = DEFAULT_NIGHT_OPTIONS,
): boolean {
  if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) {
    throw new AnalyticsError('bad-input', 'timeMs must be a finite number');
  }
  const localMs = timeMs + options.utcOffsetMinutes * 60_000;
  const hour = (((localMs % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
  const { fromHour, toHour } = options;
  if (fromHour === toHour) return false;
  return fromHour < toHour ? hour >= fromHour && hour < toHour : hour >= fromHour || hour < toHour;
}
