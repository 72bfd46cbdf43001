import { describe, expect, it } from 'vitest';
import type { SampledReading } from '../sampling/merge-sources.js';
import { BatchAssembler, type BatchContent } from './batch-assembler.js';

const reading = (name: string, time: number, value = 1): SampledReading => ({
  name,
  value,
  unit: 'x',
  time,
  sourceTime: time,
  source: 'test',
});

describe('BatchAssembler', () => {
  it('cuts by age and keeps every reading exactly once', () => {
    const a = new BatchAssembler({ maxAgeMs: 1_000, maxSamples: 10_000, rates: {} });
    const batches: BatchContent[] = [];
    for (let t = 0; t < 5_000; t += 100) {
      const b = a.push(reading('Vehicle.Speed', t, t));
      if (b) batches.push(b);
    }
    const last = a.cut();
    if (last) batches.push(last);
    expect(batches.map((b) => b.readings.length)).toEqual([10, 10, 10, 10, 10]);
    expect(batches.flatMap((b) => b.readings.map((r) => r.value))).toEqual(
      Array.from({ length: 50 }, (_, i) => i * 100),
    );
    expect(batches.every((b) => b.kind === 'routine')).toBe(true);
    expect(batches[1]).toMatchObject({ start: 1_000, end: 1_900 });
  });

  it('cuts by size', () => {
    const a = new BatchAssembler({ maxAgeMs: 60_000, maxSamples: 3, rates: {} });
    const out = [0, 1, 2, 3].map((t) => a.push(reading('Vehicle.Speed', t)));
    expect(out.map((b) => b?.readings.length)).toEqual([undefined, undefined, 3, undefined]);
  });

  it('thins each signal to its configured rate, with slack for jitter', () => {
    const a = new BatchAssembler({
      maxAgeMs: 60_000,
      maxSamples: 10_000,
      rates: { 'Vehicle.Speed': 10 },
    });
    // 100 Hz with ±1 ms jitter for ten seconds; the rate-less signal keeps everything.
    for (let i = 0; i < 1_000; i++) {
      a.push(reading('Vehicle.Speed', i * 10 + (i % 2)));
      a.push(reading('Vehicle.Acceleration.Longitudinal', i * 10 + 0.5));
    }
    const b = a.cut()!;
    // 10 s at 10 Hz; the slack may admit the reading just before the 101st slot.
    const speeds = b.readings.filter((r) => r.name === 'Vehicle.Speed').length;
    expect(speeds).toBeGreaterThanOrEqual(100);
    expect(speeds).toBeLessThanOrEqual(101);
    expect(b.readings.filter((r) => r.name !== 'Vehicle.Speed')).toHaveLength(1_000);
  });

  it('keeps a jittery signal that arrives at its configured rate', () => {
    const a = new BatchAssembler({
      maxAgeMs: 60_000,
      maxSamples: 10_000,
      rates: { 'Vehicle.Speed': 10 },
    });
    for (let i = 0; i < 100; i++)
      a.push(reading('Vehicle.Speed', i * 100 + (i % 3 === 0 ? -3 : 4)));
    // A 5 s pause, then the signal comes back: no burst, no loss.
    for (let i = 0; i < 10; i++) a.push(reading('Vehicle.Speed', 15_000 + i * 100));
    expect(a.cut()!.readings).toHaveLength(110);
  });

  it('marks batches with events as event batches', () => {
    const a = new BatchAssembler({ maxAgeMs: 60_000, maxSamples: 10_000, rates: {} });
    a.push(reading('Vehicle.Speed', 10));
    a.addEvent({ type: 'harsh-braking', priority: 'high', start: 5, end: 20, data: {} });
    expect(a.cut()).toMatchObject({ kind: 'event', start: 5, end: 20 });
    expect(a.cut()).toBeUndefined();
  });

  it('refuses nonsense options', () => {
    expect(() => new BatchAssembler({ maxAgeMs: 0, maxSamples: 1, rates: {} })).toThrow(RangeError);
    expect(() => new BatchAssembler({ maxAgeMs: 1, maxSamples: 1, rates: { x: 0 } })).toThrow(
      RangeError,
    );
  });
});
