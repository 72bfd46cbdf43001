import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCORE_LIMITS,
  DEFAULT_SCORE_WEIGHTS,
  SCORE_FORMULA_VERSION,
  drivingScore,
  type ScorableTrip,
} from './driving-score.js';
import { AnalyticsError } from './errors.js';

const CLEAN: ScorableTrip = {
  distanceKm: 100,
  movingS: 3_600,
  idleS: 0,
  nightS: 0,
  speedingS: 0,
  harshAccelerationCount: 0,
  harshBrakingCount: 0,
};

describe('drivingScore components', () => {
  it('a clean trip scores 100', () => {
    const s = drivingScore([CLEAN]);
    expect(s.score).toBe(100);
    expect(s.formulaVersion).toBe(SCORE_FORMULA_VERSION);
    expect(s.components.harshEvents).toEqual({
      value: 0,
      weight: DEFAULT_SCORE_WEIGHTS.harshEvents,
      points: 100,
      zeroPointsAt: DEFAULT_SCORE_LIMITS.harshEventsPer100Km,
    });
  });

  it('harsh events per 100 km: acceleration and braking alike, linear to 0 at 50', () => {
    const s = drivingScore([{ ...CLEAN, harshAccelerationCount: 10, harshBrakingCount: 15 }]);
    expect(s.components.harshEvents.value).toBe(25);
    expect(s.components.harshEvents.points).toBe(50);
    expect(s.score).toBe(100 - 0.45 * 50);
    const worse = drivingScore([{ ...CLEAN, harshBrakingCount: 80 }]);
    expect(worse.components.harshEvents.points).toBe(0); // never negative
    expect(worse.score).toBe(55);
  });

  it('speeding: share of moving time above the threshold, 0 points at 20 %', () => {
    const s = drivingScore([{ ...CLEAN, speedingS: 360 }]);
    expect(s.components.speeding.value).toBeCloseTo(0.1, 12);
    expect(s.components.speeding.points).toBeCloseTo(50, 9);
    expect(s.score).toBe(85);
  });

  it('night: share of moving time at night, 0 points when all of it', () => {
    const s = drivingScore([{ ...CLEAN, nightS: 900 }]);
    expect(s.components.night.value).toBe(0.25);
    expect(s.components.night.points).toBe(75);
    expect(s.score).toBe(96.3); // 100 − 0.15 × 25 = 96.25, one decimal
  });

  it('idling: share of engine-on time stopped, 0 points at 50 %', () => {
    const s = drivingScore([{ ...CLEAN, idleS: 400, movingS: 1_600 }]);
    expect(s.components.idling.value).toBe(0.2);
    expect(s.components.idling.points).toBeCloseTo(60, 9);
    expect(s.score).toBe(96);
  });

  it('distance: changes the confidence, never the score', () => {
    const short = drivingScore([{ ...CLEAN, distanceKm: 5, harshBrakingCount: 1 }]);
    const long = drivingScore([{ ...CLEAN, distanceKm: 1_000, harshBrakingCount: 200 }]);
    expect(short.score).toBe(long.score);
    expect(short.confidence).toBe(0.01);
    expect(long.confidence).toBe(1);
    expect(short.components.distance).toEqual({
      value: 5,
      weight: 0,
      points: 1,
      fullPointsAt: 500,
    });
  });

  it('nothing driven: no score, and no division by zero', () => {
    expect(drivingScore([]).score).toBeNull();
    const idleOnly = drivingScore([{ ...CLEAN, distanceKm: 0, movingS: 0, idleS: 600 }]);
    expect(idleOnly.score).toBeNull();
    expect(idleOnly.components.idling.value).toBe(1);
    expect(idleOnly.confidence).toBe(0);
  });

  it('adds trips up before scoring: exact, in any order', () => {
    const a = { ...CLEAN, distanceKm: 0.1, movingS: 0.1, speedingS: 0.1 };
    const b = { ...CLEAN, distanceKm: 0.2, movingS: 0.2, harshAccelerationCount: 1 };
    const c = { ...CLEAN, distanceKm: 0.3, movingS: 0.3, nightS: 0.3 };
    const abc = drivingScore([a, b, c]);
    expect(abc.distanceKm).toBe(0.6); // integer metres: not 0.6000000000000001
    expect(drivingScore([c, a, b])).toEqual(abc);
    expect(abc.trips).toBe(3);
  });

  it('takes other weights and limits', () => {
    const trip = { ...CLEAN, nightS: 3_600 };
    const s = drivingScore([trip], {
      weights: { harshEvents: 0.5, speeding: 0.2, night: 0.3, idling: 0 },
      zeroPointsAt: { nightShare: 0.5 },
      fullConfidenceKm: 100,
    });
    expect(s.score).toBe(70);
    expect(s.components.night).toMatchObject({ weight: 0.3, zeroPointsAt: 0.5, points: 0 });
    expect(s.confidence).toBe(1);
  });
});

describe('drivingScore hostile inputs', () => {
  const badTrips: [string, unknown][] = [
    ['not an array', { length: 1 }],
    ['null trip', [null]],
    ['negative distance', [{ ...CLEAN, distanceKm: -1 }]],
    ['NaN moving time', [{ ...CLEAN, movingS: Number.NaN }]],
    ['infinite idle', [{ ...CLEAN, idleS: Infinity }]],
    ['string night', [{ ...CLEAN, nightS: '5' }]],
    ['missing speeding', [{ ...CLEAN, speedingS: undefined }]],
    ['fractional count', [{ ...CLEAN, harshBrakingCount: 1.5 }]],
    ['negative count', [{ ...CLEAN, harshAccelerationCount: -1 }]],
    ['more night than moving', [{ ...CLEAN, nightS: 3_601 }]],
    ['more speeding than moving', [{ ...CLEAN, speedingS: 3_600.2 }]],
  ];
  for (const [what, trips] of badTrips) {
    it(`refuses ${what}`, () => {
      expect(() => drivingScore(trips as ScorableTrip[])).toThrow(AnalyticsError);
    });
  }

  it('names the field and the trip', () => {
    expect(() => drivingScore([CLEAN, { ...CLEAN, idleS: -2 }])).toThrow('trips[1].idleS');
    expect(() => drivingScore([{ ...CLEAN, movingS: -1 }])).toThrow(
      expect.objectContaining({ name: 'AnalyticsError', code: 'bad-trip' }),
    );
  });

  const badOptions: [string, unknown][] = [
    ['weights not summing to 1', { weights: { harshEvents: 0.5 } }],
    ['a negative weight', { weights: { harshEvents: 0.65, idling: -0.1 } }],
    ['a zero limit', { zeroPointsAt: { speedingShare: 0 } }],
    ['a NaN limit', { zeroPointsAt: { idlingShare: Number.NaN } }],
    ['zero full-confidence distance', { fullConfidenceKm: 0 }],
    ['infinite full-confidence distance', { fullConfidenceKm: Infinity }],
  ];
  for (const [what, options] of badOptions) {
    it(`refuses ${what}`, () => {
      expect(() => drivingScore([CLEAN], options as never)).toThrow(
        expect.objectContaining({ code: 'bad-option' }),
      );
    });
  }
  it('refuses options that are not an object', () => {
    expect(() => drivingScore([CLEAN], 5 as never)).toThrow(
      expect.objectContaining({ code: 'bad-input' }),
    );
  });
});
