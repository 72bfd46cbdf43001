import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DrivingEvent } from '../events/types.js';
import { CrashRecorder, type TraceReading } from './crash-recorder.js';

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
    const before = rec.trigger(crashAt(60_000));
    const after = feed(rec, 60_010, 75_000);
    expect(after).toHaveLength(1);
    expect(before).toMatchObject({ part: 'before', from: 40_000, to: 60_000 });
    expect(after[0]).toMatchObject({ part: 'after', from: 60_000, to: 70_000 });
    const readings = [...before.readings, ...after[0]!.readings];
    const speed = readings.filter((r) => r.name === 'Vehicle.Speed');
    const accel = readings.filter((r) => r.name === 'Vehicle.Acceleration.Longitudinal');
    expect(speed).toHaveLength(301); // 30 s at 10 Hz, both ends included, none twice
    expect(accel).toHaveLength(3001); // 30 s at 100 Hz
    expect(new Set(readings.map((r) => `${r.name} ${r.time}`)).size).toBe(readings.length);
    expect(Math.min(...readings.map((r) => r.time))).toBe(40_000);
    expect(Math.max(...before.readings.map((r) => r.time))).toBe(60_000);
    expect(Math.min(...after[0]!.readings.map((r) => r.time))).toBe(60_010);
    expect(Math.max(...readings.map((r) => r.time))).toBe(70_000);
  });

  it('hands out the part before the trigger at once, before any later reading arrives', () => {
    const rec = new CrashRecorder();
    feed(rec, 0, 30_000);
    const before = rec.trigger(crashAt(30_000));
    // Power could be cut right now: the 20 s that led up to the crash are already out.
    expect(before.readings.filter((r) => r.name === 'Vehicle.Speed')).toHaveLength(201);
    expect(rec.pendingCount).toBe(1);
  });

  it('gives two traces for two crashes in a row, even when their windows overlap', () => {
    const rec = new CrashRecorder();
    feed(rec, 0, 30_000);
    const firstBefore = rec.trigger(crashAt(30_000));
    const during = feed(rec, 30_010, 33_000);
    const secondBefore = rec.trigger(crashAt(33_000));
    const rest = feed(rec, 33_010, 50_000);
    expect(during).toEqual([]);
    expect([firstBefore, secondBefore].map((t) => t.triggerTime)).toEqual([30_000, 33_000]);
    expect(rest.map((t) => [t.part, t.triggerTime])).toEqual([
      ['after', 30_000],
      ['after', 33_000],
    ]);
    expect(secondBefore.from).toBe(13_000);
    expect(secondBefore.readings[0]!.time).toBe(13_000);
    expect(rest[1]!.readings.at(-1)!.time).toBe(43_000);
  });

  it('completes pending traces on flush with what it has', () => {
    const rec = new CrashRecorder();
    feed(rec, 0, 25_000);
    rec.trigger(crashAt(25_000));
    feed(rec, 25_010, 27_000);
    const [t] = rec.flush();
    expect(t?.part).toBe('after');
    expect(t?.readings.at(-1)?.time).toBe(27_000);
    expect(rec.pendingCount).toBe(0);
  });

  it('is bounded in memory by maxReadings', () => {
    const rec = new CrashRecorder({ maxReadings: 1_000 });
    feed(rec, 0, 60_000);
    expect(rec.trigger(crashAt(60_000)).readings.length).toBeLessThanOrEqual(1_000);
    const [t] = feed(rec, 60_010, 71_000);
    expect(t!.readings.length).toBeLessThanOrEqual(1_000);
    expect(t!.readings.at(-1)!.time).toBe(70_000);
  });

  it('holds about preMs of readings in columns, not its capacity, and no reading object', async () => {
    // 1 kHz for 30 s with preMs 20 s: the ring grows to the window, not to maxReadings (400k),
    // and keeps numbers, not the readings pushed into it (a board has little RAM).
    const rec = new CrashRecorder();
    const pushed: WeakRef<TraceReading>[] = [];
    for (let t = 0; t <= 30_000; t++) {
      const r: TraceReading = { name: 'Vehicle.Speed', value: t / 1_000, unit: 'km/h', time: t };
      // Not the last: the suspended test function itself may still hold it across the await.
      if (t % 100 === 0 && t < 30_000) pushed.push(new WeakRef(r));
      rec.push(r);
    }
    expect(rec.capacity).toBe(32_768);
    await new Promise((r) => setTimeout(r, 0));
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    expect(pushed.filter((w) => w.deref() !== undefined)).toHaveLength(0);
    const { readings } = rec.trigger(crashAt(30_000));
    expect(readings).toHaveLength(20_001);
    expect(readings[0]).toEqual({ name: 'Vehicle.Speed', value: 10, unit: 'km/h', time: 10_000 });
    expect(readings.at(-1)).toEqual({
      name: 'Vehicle.Speed',
      value: 30,
      unit: 'km/h',
      time: 30_000,
    });
  });

  it('refuses nonsense options', () => {
    expect(() => new CrashRecorder({ maxReadings: 0 })).toThrow(RangeError);
    expect(() => new CrashRecorder({ preMs: -1 })).toThrow(RangeError);
  });
});
