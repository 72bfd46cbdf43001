import { describe, expect, it } from 'vitest';
import { loadCycle } from '../../../test/support/drive-cycles.js';
import { EVENT_INPUTS, EventDetector } from './event-detector.js';
import type { DrivingEvent, EventThresholds } from './types.js';

const CYCLES = ['udds', 'hwfet', 'us06', 'nycc'] as const;

/** Feeds a 1 Hz speed trace at `hz`, interpolated linearly, as Vehicle.Speed readings. */
function run(speeds: number[], hz: number, thresholds: Partial<EventThresholds>): DrivingEvent[] {
  const d = new EventDetector(thresholds);
  const events: DrivingEvent[] = [];
  const steps = (speeds.length - 1) * hz;
  for (let i = 0; i <= steps; i++) {
    const k = Math.floor(i / hz);
    const f = i / hz - k;
    const v0 = speeds[k] ?? 0;
    const v = f === 0 ? v0 : v0 + ((speeds[k + 1] ?? v0) - v0) * f;
    events.push(...d.push({ name: EVENT_INPUTS.speed, value: v, time: (i * 1000) / hz }));
  }
  return [...events, ...d.flush()];
}

// hardware/data/drive-cycles/README.md, "Handy test facts": runs of consecutive 1-s speed
// differences past each threshold.
const EXPECTED: Record<(typeof CYCLES)[number], number[]> = {
  //      acc≥2.0 acc≥2.5 dec≤−1.8 dec≤−2.4 dec≤−2.7 dec≤−3.0
  udds: [0, 0, 0, 0, 0, 0],
  hwfet: [0, 0, 0, 0, 0, 0],
  us06: [11, 7, 9, 7, 2, 1],
  nycc: [5, 2, 3, 2, 0, 0],
};
const ACCEL = [2.0, 2.5];
const DECEL = [-1.8, -2.4, -2.7, -3.0];

describe('EventDetector on the EPA drive cycles (noise off)', () => {
  for (const cycle of CYCLES) {
    for (const hz of [1, 10]) {
      it(`${cycle} at ${hz} Hz gives the README's harsh event counts`, () => {
        const speeds = loadCycle(cycle);
        const counts = [
          ...ACCEL.map(
            (a) =>
              run(speeds, hz, { harshAccelerationMs2: a }).filter(
                (e) => e.type === 'harsh-acceleration',
              ).length,
          ),
          ...DECEL.map(
            (b) =>
              run(speeds, hz, { harshBrakingMs2: b }).filter((e) => e.type === 'harsh-braking')
                .length,
          ),
        ];
        expect(counts).toEqual(EXPECTED[cycle]);
      });
    }
  }

  it('with the default thresholds raises nothing on UDDS and HWFET, and no crash on any cycle', () => {
    expect(run(loadCycle('udds'), 10, {})).toEqual([]);
    expect(run(loadCycle('hwfet'), 10, {})).toEqual([]);
    for (const c of CYCLES)
      expect(run(loadCycle(c), 10, {}).some((e) => e.type === 'crash')).toBe(false);
  });

  it('reports the peak and span of a harsh run', () => {
    const events = run(loadCycle('us06'), 1, { harshBrakingMs2: -3.0 });
    const brake = events.filter((e) => e.type === 'harsh-braking');
    expect(brake).toHaveLength(1);
    expect(brake[0]?.data.peakMs2).toBeCloseTo(-3.085, 3);
  });
});

describe('EventDetector: crash (49 CFR 563 style ΔV)', () => {
  it('triggers on ΔV ≥ 8 km/h within 150 ms, once per crash, and again for a second crash', () => {
    const d = new EventDetector();
    const events: DrivingEvent[] = [];
    const feed = (time: number, v: number) =>
      events.push(...d.push({ name: EVENT_INPUTS.speed, value: v, time }));
    for (let t = 0; t <= 5_000; t += 50) feed(t, 50);
    // 30 km/h lost in 100 ms: a crash.
    feed(5_050, 35);
    feed(5_100, 20);
    for (let t = 5_150; t <= 8_000; t += 50) feed(t, 20);
    // A second impact three seconds later.
    feed(8_050, 5);
    feed(8_100, 0);
    const crashes = events.filter((e) => e.type === 'crash');
    expect(crashes).toHaveLength(2);
    expect(crashes[0]).toMatchObject({ priority: 'critical', start: 5_050 });
    expect(crashes[0]?.data.trigger).toBe('delta-v');
    expect(crashes[1]?.start).toBe(8_050);
  });

  it('does not trigger on hard but legal braking (7 km/h in 150 ms)', () => {
    const d = new EventDetector();
    const events: DrivingEvent[] = [];
    let v = 100;
    for (let t = 0; t <= 10_000; t += 50) {
      events.push(...d.push({ name: EVENT_INPUTS.speed, value: v, time: t }));
      v = Math.max(0, v - 7 / 3); // 7 km/h per 150 ms ≈ 13 m/s², still below the ΔV trigger
    }
    expect(events.some((e) => e.type === 'crash')).toBe(false);
  });

  it('triggers on an acceleration magnitude spike', () => {
    const d = new EventDetector();
    const e1 = d.push({ name: EVENT_INPUTS.accelLongitudinal, value: -30, time: 1_000 });
    const e2 = d.push({ name: EVENT_INPUTS.accelLateral, value: 30, time: 1_001 });
    expect(e1).toEqual([]);
    expect(e2).toHaveLength(1);
    expect(e2[0]?.data).toMatchObject({ trigger: 'acceleration', accelMs2: 42.43 });
  });
});

describe('EventDetector: speeding, battery, DTCs', () => {
  it('raises speeding only after the minimum duration, with max speed', () => {
    const d = new EventDetector({ speedLimitKmh: 100, speedingMinMs: 5_000 });
    const events: DrivingEvent[] = [];
    const feed = (t: number, v: number) =>
      events.push(...d.push({ name: EVENT_INPUTS.speed, value: v, time: t }));
    for (let t = 0; t < 3_000; t += 100) feed(t, 110); // 3 s: too short
    feed(3_000, 90);
    for (let t = 4_000; t < 12_000; t += 100) feed(t, 105 + (t % 1000) / 100);
    feed(12_000, 95);
    const speeding = events.filter((e) => e.type === 'speeding');
    expect(speeding).toHaveLength(1);
    expect(speeding[0]).toMatchObject({ start: 4_000, end: 11_900 });
    expect(speeding[0]?.data.maxKmh).toBe(114);
  });

  it('raises low battery once after it stays low, and again only after recovery', () => {
    const d = new EventDetector();
    const events: DrivingEvent[] = [];
    const feed = (t: number, v: number) =>
      events.push(
        ...d.push({ name: 'Vehicle.LowVoltageBattery.CurrentVoltage', value: v, time: t }),
      );
    for (let t = 0; t <= 30_000; t += 1_000) feed(t, 11.5);
    feed(31_000, 11.9); // within hysteresis: still the same episode
    for (let t = 32_000; t <= 45_000; t += 1_000) feed(t, 11.4);
    feed(46_000, 12.6);
    for (let t = 47_000; t <= 60_000; t += 1_000) feed(t, 11.0);
    const low = events.filter((e) => e.type === 'low-battery');
    expect(low).toHaveLength(2);
    expect(low[0]).toMatchObject({ start: 0, end: 10_000 });
    expect(low[1]?.data.minV).toBe(11);
  });

  it('reports DTCs set and cleared', () => {
    const d = new EventDetector();
    const feed = (t: number, v: string) => d.push({ name: EVENT_INPUTS.dtcs, value: v, time: t });
    expect(feed(0, '').map((e) => e.type)).toEqual([]);
    expect(feed(1, 'P0301,P0420').map((e) => `${e.type}:${e.data.code}`)).toEqual([
      'dtc-set:P0301',
      'dtc-set:P0420',
    ]);
    expect(feed(2, 'P0420').map((e) => `${e.type}:${e.data.code}`)).toEqual(['dtc-cleared:P0301']);
    expect(feed(3, 'garbage, P04').map((e) => e.type)).toEqual(['dtc-cleared']);
  });

  it('refuses nonsense thresholds', () => {
    expect(() => new EventDetector({ harshAccelerationMs2: -1 })).toThrow(RangeError);
    expect(() => new EventDetector({ harshBrakingMs2: 3 })).toThrow(RangeError);
  });
});
