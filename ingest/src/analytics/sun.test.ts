import { describe, expect, it } from 'vitest';
import { AnalyticsError } from './errors.js';
import { DEFAULT_NIGHT_OPTIONS, isNightByLocalHours, isNightBySun } from './night.js';
import { solarElevationDeg } from './sun.js';

const MINUTE = 60_000;

/** Times (Unix ms) within [from, from + hours) at which night begins or ends, 10-s resolution. */
function transitions(lat: number, lon: number, from: number, hours: number, belowDeg?: number) {
  const out: { kind: 'sunrise' | 'sunset'; time: number }[] = [];
  let night = isNightBySun(from, lat, lon, belowDeg);
  for (let t = from; t < from + hours * 3_600_000; t += 10_000) {
    const n = isNightBySun(t, lat, lon, belowDeg);
    if (n !== night) out.push({ kind: n ? 'sunset' : 'sunrise', time: t });
    night = n;
  }
  return out;
}

/** Published times are rounded to the minute; NOAA's formulas are good to about a minute. */
function expectWithin(actual: number | undefined, published: number, minutes: number) {
  expect(actual).toBeDefined();
  expect(Math.abs(actual! - published) / MINUTE).toBeLessThanOrEqual(minutes);
}

describe('solar elevation (NOAA formulas) against published sunrise and sunset', () => {
  it('Atlanta, 6 September 2009: the USNO table (33.8° N, 84.4° W, EDT = UTC−4)', () => {
    // USNO "Complete Sun and Moon Data for One Day" as quoted in PyEphem's rise-set guide:
    // sunrise 7:15 a.m., transit 1:36 p.m., sunset 7:56 p.m., civil twilight 6:50 / 8:21.
    const [rise, set] = transitions(33.8, -84.4, Date.UTC(2009, 8, 6, 6), 24);
    expect([rise?.kind, set?.kind]).toEqual(['sunrise', 'sunset']);
    expectWithin(rise?.time, Date.UTC(2009, 8, 6, 11, 15), 1);
    expectWithin(set?.time, Date.UTC(2009, 8, 6, 23, 56), 1);
    const [dawn, dusk] = transitions(33.8, -84.4, Date.UTC(2009, 8, 6, 6), 24, -6);
    expectWithin(dawn?.time, Date.UTC(2009, 8, 6, 10, 50), 1);
    expectWithin(dusk?.time, Date.UTC(2009, 8, 7, 0, 21), 1);
    // Transit: the highest sun of the day.
    const noon = Date.UTC(2009, 8, 6, 17, 36);
    expect(solarElevationDeg(noon, 33.8, -84.4)).toBeGreaterThan(
      solarElevationDeg(noon - 5 * MINUTE, 33.8, -84.4),
    );
    expect(solarElevationDeg(noon, 33.8, -84.4)).toBeGreaterThan(
      solarElevationDeg(noon + 5 * MINUTE, 33.8, -84.4),
    );
  });

  it('Reykjavík, 21 December 2004: the University of Iceland almanac (64.15° N, 21.93° W, UTC)', () => {
    // Almanak Háskóla Íslands figures for the solstice: sunrise 11:22, noon 13:26, sunset
    // 15:30, the sun 2.7° up at noon (apparent, with refraction). Four hours of day: the sun
    // crosses the horizon at a shallow angle, the hardest case for a rising-time formula.
    const [rise, set] = transitions(64.15, -21.93, Date.UTC(2004, 11, 21, 0), 24);
    expectWithin(rise?.time, Date.UTC(2004, 11, 21, 11, 22), 1);
    expectWithin(set?.time, Date.UTC(2004, 11, 21, 15, 30), 1);
    const noon = solarElevationDeg(Date.UTC(2004, 11, 21, 13, 26), 64.15, -21.93);
    // Geometric 2.4°; standard refraction at that height adds about 0.3°.
    expect(noon).toBeGreaterThan(2.3);
    expect(noon).toBeLessThan(2.6);
  });

  it('Sydney, summer 2008/09: the Sydney Observatory sky guide (33.86° S, 151.20° E, AEDT = UTC+11)', () => {
    // "From 1 to 10 December 2008 the Sun rises at 5:37 am, the earliest for the year; the
    // latest sunset is 20:10 from 2 to 12 January 2009" (2009 Australian Sky Guide).
    for (const day of [1, 5, 10]) {
      const [rise] = transitions(-33.8597, 151.2048, Date.UTC(2008, 11, day - 1, 12), 12);
      expect(rise?.kind).toBe('sunrise');
      expectWithin(rise?.time, Date.UTC(2008, 11, day - 1, 18, 37), 1);
    }
    for (const day of [2, 7, 12]) {
      const [set] = transitions(-33.8597, 151.2048, Date.UTC(2009, 0, day, 2), 12);
      expect(set?.kind).toBe('sunset');
      expectWithin(set?.time, Date.UTC(2009, 0, day, 9, 10), 1);
    }
  });

  it('polar night and midnight sun: no transition at all', () => {
    expect(transitions(78.22, 15.65, Date.UTC(2025, 11, 21), 24)).toEqual([]); // Longyearbyen
    expect(isNightBySun(Date.UTC(2025, 11, 21, 12), 78.22, 15.65)).toBe(true);
    expect(transitions(78.22, 15.65, Date.UTC(2025, 5, 21), 24)).toEqual([]);
    expect(isNightBySun(Date.UTC(2025, 5, 21, 0), 78.22, 15.65)).toBe(false);
  });

  it('refuses what is not a time and a position', () => {
    const bad: [number, number, number][] = [
      [Number.NaN, 0, 0],
      [Infinity, 0, 0],
      [0, 91, 0],
      [0, 0, -181],
      [0, Number.NaN, 0],
    ];
    for (const [t, lat, lon] of bad) {
      expect(() => solarElevationDeg(t, lat, lon)).toThrow(AnalyticsError);
    }
    expect(() => solarElevationDeg('1' as unknown as number, 0, 0)).toThrow(/timeMs/);
  });
});

describe('night by local clock hours (no GNSS)', () => {
  const at = (iso: string) => Date.parse(iso);

  it('uses 22:00–06:00 UTC by default, start inclusive, end exclusive', () => {
    expect(isNightByLocalHours(at('2025-03-01T21:59:59.999Z'))).toBe(false);
    expect(isNightByLocalHours(at('2025-03-01T22:00:00Z'))).toBe(true);
    expect(isNightByLocalHours(at('2025-03-02T00:00:00Z'))).toBe(true);
    expect(isNightByLocalHours(at('2025-03-02T05:59:59Z'))).toBe(true);
    expect(isNightByLocalHours(at('2025-03-02T06:00:00Z'))).toBe(false);
  });

  it('applies the configured UTC offset, either sign, and windows that do not wrap', () => {
    const detroit = { ...DEFAULT_NIGHT_OPTIONS, utcOffsetMinutes: -300 };
    expect(isNightByLocalHours(at('2025-03-02T03:30:00Z'), detroit)).toBe(true); // 22:30 EST
    expect(isNightByLocalHours(at('2025-03-02T11:30:00Z'), detroit)).toBe(false); // 06:30
    const india = { ...DEFAULT_NIGHT_OPTIONS, utcOffsetMinutes: 330 };
    expect(isNightByLocalHours(at('2025-03-01T16:29:00Z'), india)).toBe(false); // 21:59 IST
    expect(isNightByLocalHours(at('2025-03-01T16:30:00Z'), india)).toBe(true); // 22:00
    const smallHours = { utcOffsetMinutes: 0, fromHour: 0, toHour: 5 };
    expect(isNightByLocalHours(at('2025-03-01T23:00:00Z'), smallHours)).toBe(false);
    expect(isNightByLocalHours(at('2025-03-01T04:59:00Z'), smallHours)).toBe(true);
    // Before 1970 too: the hour of a negative Unix time.
    expect(isNightByLocalHours(at('1969-12-31T23:00:00Z'))).toBe(true);
  });
});
