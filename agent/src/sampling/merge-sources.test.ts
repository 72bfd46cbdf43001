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

  it('loses and repeats nothing under load, and holds back sources a slow consumer cannot keep up with', async () => {
    const sources = ['a', 'b', 'c'].map(source);
    // 3 × 20,000 readings queued before anyone reads: more than the merge buffers at once.
    for (let i = 0; i < 20_000; i++) for (const s of sources) s.emit('Vehicle.Speed', i, i);
    for (const s of sources) s.q.end();
    const seen = new Map<string, number[]>(sources.map((s) => [s.id, []]));
    let last = -Infinity;
    let ordered = true;
    for await (const r of mergeSources(sources, new AgentClock())) {
      seen.get(r.source)!.push(r.value as number);
      if (r.time <= last) ordered = false;
      last = r.time;
      // A consumer slower than the sources: the sources' own queues hold the rest meanwhile.
      if ((r.value as number) % 5_000 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        expect(sources.reduce((n, s) => n + s.q.size, 0)).toBeGreaterThan(0);
      }
    }
    expect(ordered).toBe(true);
    for (const values of seen.values()) expect(values).toEqual(Array.from({ length: 20_000 }, (_, i) => i)); // prettier-ignore
  });

  it('returns every source when the consumer stops early', async () => {
    const sources = ['a', 'b'].map(source);
    for (const s of sources) s.emit('Vehicle.Speed', 1, 1);
    let returned = 0;
    const tracked = sources.map((s) => ({
      id: s.id,
      readings: () => ({
        [Symbol.asyncIterator]: () => {
          const it = s.q[Symbol.asyncIterator]();
          return { next: () => it.next(), return: () => (returned++, it.return!()) };
        },
      }),
    }));
    for await (const r of mergeSources(tracked, new AgentClock())) {
      expect(r.value).toBe(1);
      break;
    }
    expect(returned).toBe(2);
  });
});
