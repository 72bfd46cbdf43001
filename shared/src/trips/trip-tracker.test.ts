import { describe, expect, it } from 'vitest';
import { loadCycle } from '../../../test/support/drive-cycles.js';
import { TripTracker, type TripInterval } from './trip-tracker.js';

// hardware/data/drive-cycles/README.md: trapezoid distances and idle seconds of each schedule.
const CYCLES = [
  ['udds', 11.99],
  ['hwfet', 16.507],
  ['us06', 12.888],
  ['nycc', 1.898],
] as const;

describe('TripTracker distance on the EPA cycles', () => {
  for (const [name, km] of CYCLES) {
    it(`${name}: ${km} km within 0.1 % at 10 Hz with the engine running`, () => {
      const speeds = loadCycle(name);
      const tracker = new TripTracker();
      for (let i = 0; i <= (speeds.length - 1) * 10; i++) {
        const k = Math.floor(i / 10);
        const f = i / 10 - k;
        const v0 = speeds[k] ?? 0;
        const v = v0 + ((speeds[k + 1] ?? v0) - v0) * f;
        tracker.push('Vehicle.Powertrain.CombustionEngine.Speed', 800, i * 100);
        tracker.push('Vehicle.Speed', v, i * 100);
      }
      const trip = tracker.end();
      expect(trip).toBeDefined();
      expect(Math.abs(trip!.distanceKm - km) / km).toBeLessThan(0.001);
      expect(tracker.odometerKm).toBeCloseTo(trip!.distanceKm, 9);
      expect(trip!.maxSpeedKmh).toBe(Math.max(...speeds));
    });
  }
});

describe('TripTracker trips', () => {
  it('starts with the engine and ends after the engine has been off long enough', () => {
    const t = new TripTracker({ endAfterEngineOffMs: 30_000 });
    expect(t.push('Vehicle.Powertrain.CombustionEngine.Speed', 0, 0)).toBeUndefined();
    expect(t.current).toBeUndefined();
    t.push('Vehicle.Powertrain.CombustionEngine.Speed', 750, 1_000);
    for (let s = 1; s <= 60; s++) t.push('Vehicle.Speed', 36, s * 1_000);
    t.push('Vehicle.Speed', 0, 61_000);
    expect(t.push('Vehicle.Powertrain.CombustionEngine.Speed', 0, 62_000)).toBeUndefined();
    const trip = t.push('Vehicle.Powertrain.CombustionEngine.Speed', 0, 92_000);
    expect(trip).toMatchObject({ start: 1_000, end: 92_000 });
    expect(trip!.distanceKm).toBeCloseTo(0.59 + 0.005, 9); // 59 s at 36 km/h + the stop ramp
    expect(t.current).toBeUndefined();
  });

  it('counts idle time with the engine on and the car stopped', () => {
    const t = new TripTracker();
    t.push('Vehicle.Powertrain.CombustionEngine.Speed', 750, 0);
    for (let s = 0; s <= 10; s++) t.push('Vehicle.Speed', 0, s * 1_000);
    expect(t.current?.idleMs).toBe(10_000);
    expect(t.current?.movingMs).toBe(0);
  });

  it('does not integrate across a gap in the data', () => {
    const t = new TripTracker({ maxGapMs: 5_000 });
    t.push('Vehicle.Speed', 100, 0);
    t.push('Vehicle.Speed', 100, 3_600_000); // an hour without data: distance unknown
    expect(t.current?.distanceKm).toBe(0);
  });

  it('ends on standstill when the vehicle reports no engine speed', () => {
    const t = new TripTracker({ endAfterStandstillMs: 60_000 });
    t.push('Vehicle.Speed', 20, 0);
    t.push('Vehicle.Speed', 0, 1_000);
    expect(t.push('Vehicle.Speed', 0, 30_000)).toBeUndefined();
    expect(t.push('Vehicle.Speed', 0, 61_000)).toMatchObject({ start: 0, end: 61_000 });
  });
});

describe('TripTracker intervals', () => {
  it('reports every integrated interval; they add up to the trip exactly', () => {
    const speeds = loadCycle('nycc');
    const intervals: TripInterval[] = [];
    const tracker = new TripTracker({}, 0, (i) => intervals.push(i));
    tracker.push('Vehicle.Powertrain.CombustionEngine.Speed', 750, 0);
    speeds.forEach((v, s) => tracker.push('Vehicle.Speed', v, s * 1_000));
    const trip = tracker.end()!;
    const sum = (kind: TripInterval['kind']) =>
      intervals.filter((i) => i.kind === kind).reduce((a, i) => a + i.to - i.from, 0);
    expect(sum('moving')).toBe(trip.movingMs);
    expect(sum('idle')).toBe(trip.idleMs);
    expect(sum('stopped')).toBe(0);
    expect(intervals.reduce((a, i) => a + i.km, 0)).toBeCloseTo(trip.distanceKm, 12);
    expect(intervals).toHaveLength(speeds.length - 1);
    // 1-s steps where both ends are 0 km/h: the README's 210 idle rows less the stop episodes.
    expect(trip.idleMs / 1_000).toBe(
      speeds.slice(1).filter((v, i) => v === 0 && speeds[i] === 0).length,
    );
  });

  it('skips gaps and marks stretches stopped with the engine off', () => {
    const intervals: TripInterval[] = [];
    const t = new TripTracker({ maxGapMs: 5_000 }, 0, (i) => intervals.push(i));
    t.push('Vehicle.Speed', 10, 0);
    t.push('Vehicle.Speed', 0, 1_000);
    t.push('Vehicle.Powertrain.CombustionEngine.Speed', 0, 1_500);
    t.push('Vehicle.Speed', 0, 2_000);
    t.push('Vehicle.Speed', 0, 60_000); // a gap: not integrated, not reported
    expect(intervals.map((i) => [i.from, i.to, i.kind])).toEqual([
      [0, 1_000, 'moving'],
      [1_000, 2_000, 'stopped'],
    ]);
  });
});

describe('TripTracker state', () => {
  /** Two NYCC runs with the engine off for a minute between them, then a third still open. */
  function readings(): [string, number, number][] {
    const speeds = loadCycle('nycc');
    const out: [string, number, number][] = [];
    let t = 0;
    for (let run = 0; run < 3; run++) {
      for (const v of speeds) {
        out.push(['Vehicle.Powertrain.CombustionEngine.Speed', 800, t]);
        out.push(['Vehicle.Speed', v, t]);
        t += 1_000;
      }
      for (let off = 0; off < 60 && run < 2; off++, t += 1_000)
        out.push(['Vehicle.Powertrain.CombustionEngine.Speed', 0, t]);
    }
    return out;
  }

  it('a tracker built from another’s state at any point goes on exactly as that one does', () => {
    const all = readings();
    const run = (from?: { at: number; tracker: TripTracker }) => {
      const intervals: TripInterval[] = [];
      const trips = [];
      let tracker = new TripTracker({}, 5, (i) => intervals.push(i));
      for (const [k, [name, value, time]] of all.entries()) {
        if (from && k === from.at)
          tracker = TripTracker.fromState(from.tracker.state, {}, (i) => intervals.push(i));
        const ended = tracker.push(name, value, time);
        if (ended) trips.push(ended);
        if (from && k === from.at) from.tracker.push('Vehicle.Speed', 999, time + 1); // no effect on the copy
      }
      trips.push(tracker.end());
      return { trips, intervals, odometerKm: tracker.odometerKm };
    };
    const whole = run();
    expect(whole.trips.filter(Boolean)).toHaveLength(3);
    // Cut between trips, inside one (moving and stopped), and at the very first reading.
    for (const at of [0, 1_000, 1_201, 2 * 1_000 + 599, all.length - 1]) {
      const donor = new TripTracker({}, 5);
      for (const [name, value, time] of all.slice(0, at)) donor.push(name, value, time);
      expect(run({ at, tracker: donor })).toEqual(whole);
    }
  });

  it('state is a copy: later readings do not change a state taken earlier', () => {
    const tracker = new TripTracker();
    tracker.push('Vehicle.Speed', 30, 0);
    tracker.push('Vehicle.Speed', 40, 1_000);
    const state = tracker.state;
    tracker.push('Vehicle.Speed', 50, 2_000);
    expect(state.trip?.lastSpeed).toEqual({ time: 1_000, kmh: 40 });
    expect(state.trip?.maxSpeedKmh).toBe(40);
    expect(new TripTracker().state).toEqual({ odometerKm: 0, trip: null });
  });
});
