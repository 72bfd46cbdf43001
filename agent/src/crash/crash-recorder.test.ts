import { describe, expect, it } from 'vitest';
import type { DrivingEvent } from '../events/types.js';
import { CrashRecorder } from './crash-recorder.js';

const crashAt = (t: number): DrivingEvent => ({
  type: 'crash',
  priority: 'critical',
  start: t,
  end: t,
  data: { trigger: 'delta-v', deltaVKmh: 30 },
});

/** Feeds 10 Hz speed and 100 Hz acceleration from `from` to `to` ms. */
function feed(rec: CrashRecorder, from: number, to: number) {
  const traces = [];
  for (let t = from; t <= to; t += 10) {
    traces.push(...rec.push({ name: 'Vehicle.Acceleration.Longitudinal', value: t, unit: 'm/s^2', time: t }));
    if (t % 100 === 0) traces.push(...rec.push({ name: 'Vehicle.Speed', value: 50, unit: 'km/h', time: t }));
  } // prettier-ignore
  return traces;
}

describe('CrashRecorder', () => {
  it('keeps 20 s before and 10 s after the trigger at each signal’s native rate', () => {
    const rec = new CrashRecorder();
    expect(feed(rec, 0, 60_000)).toEqual([]);
    rec.trigger(crashAt(60_000));
    const traces = feed(rec, 60_010, 75_000);
    expect(traces).toHaveLength(1);
    const t = traces[0]!;
    expect(t.from).toBe(40_000);
    expect(t.to).toBe(70_000);
    const speed = t.readings.filter((r) => r.name === 'Vehicle.Speed');
    const accel = t.readings.filter((r) => r.name === 'Vehicle.Acceleration.Longitudinal');
    expect(speed).toHaveLength(301); // 30 s at 10 Hz, both ends included
    expect(accel).toHaveLength(3001); // 30 s at 100 Hz
    expect(Math.min(...t.readings.map((r) => r.time))).toBe(40_000);
    expect(Math.max(...t.readings.map((r) => r.time))).toBe(70_000);
  });

  it('gives two traces for two crashes in a row, even when their windows overlap', () => {
    const rec = new CrashRecorder();
    feed(rec, 0, 30_000);
    rec.trigger(crashAt(30_000));
    const first = feed(rec, 30_010, 33_000);
    rec.trigger(crashAt(33_000));
    const rest = feed(rec, 33_010, 50_000);
    const traces = [...first, ...rest];
    expect(traces.map((t) => t.triggerTime)).toEqual([30_000, 33_000]);
    expect(traces[1]!.from).toBe(13_000);
    expect(traces[1]!.readings[0]!.time).toBe(13_000);
  });

  it('completes pending traces on flush with what it has', () => {
    const rec = new CrashRecorder();
    feed(rec, 0, 25_000);
    rec.trigger(crashAt(25_000));
    feed(rec, 25_010, 27_000);
    const [t] = rec.flush();
    expect(t?.readings.at(-1)?.time).toBe(27_000);
    expect(rec.pendingCount).toBe(0);
  });

  it('is bounded in memory by maxReadings', () => {
    const rec = new CrashRecorder({ maxReadings: 1_000 });
    feed(rec, 0, 60_000);
    rec.trigger(crashAt(60_000));
    const [t] = feed(rec, 60_010, 71_000);
    expect(t!.readings.length).toBeLessThanOrEqual(1_000);
    expect(t!.readings.at(-1)!.time).toBe(70_000);
  });

  it('refuses nonsense options', () => {
    expect(() => new CrashRecorder({ maxReadings: 0 })).toThrow(RangeError);
    expect(() => new CrashRecorder({ preMs: -1 })).toThrow(RangeError);
  });
});
