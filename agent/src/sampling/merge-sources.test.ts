import { describe, expect, it } from 'vitest';
import { ReadingQueue } from '@enginechain/firmware-bridge';
import { AgentClock } from './agent-clock.js';
import { mergeSources, type SampledReading } from './merge-sources.js';

function source(id: string) {
  const q = new ReadingQueue();
  return {
    id,
    q,
    readings: () => q,
    emit(name: string, value: number, time: number) {
      q.push({ name, value, unit: 'x', time, source: id });
    },
  };
}

describe('mergeSources', () => {
  it('interleaves sources in arrival order with strictly increasing agent time', async () => {
    const a = source('a');
    const b = source('b');
    let mono = 0;
    const clock = new AgentClock({ monotonicMs: () => (mono += 10), systemMs: () => 1.7e12 });
    const out: SampledReading[] = [];
    const done = (async () => {
      for await (const r of mergeSources([a, b], clock)) out.push(r);
    })();
    a.emit('Vehicle.Speed', 1, 999_999); // the adapter's own clock is far off: kept as sourceTime
    await new Promise((r) => setTimeout(r, 5));
    b.emit('Vehicle.CurrentLocation.Latitude', 2, 5);
    await new Promise((r) => setTimeout(r, 5));
    a.emit('Vehicle.Speed', 3, 1_000_000);
    await new Promise((r) => setTimeout(r, 5));
    a.q.end();
    b.q.end();
    await done;
    expect(out.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(out.map((r) => r.source)).toEqual(['a', 'b', 'a']);
    expect(out[0]?.sourceTime).toBe(999_999);
    for (let i = 1; i < out.length; i++) expect(out[i]!.time).toBeGreaterThan(out[i - 1]!.time);
  });

  it('keeps the other sources going when one fails', async () => {
    const a = source('a');
    const b = source('b');
    const errors: string[] = [];
    const out: number[] = [];
    const done = (async () => {
      for await (const r of mergeSources([a, b], new AgentClock(), (id) => errors.push(id))) {
        out.push(r.value as number);
      }
    })();
    a.q.fail(new Error('unplugged'));
    b.emit('Vehicle.Speed', 7, 0);
    await new Promise((r) => setTimeout(r, 5));
    b.q.end();
    await done;
    expect(errors).toEqual(['a']);
    expect(out).toEqual([7]);
  });
});
