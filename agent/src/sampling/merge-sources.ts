import type { AgentClock } from './agent-clock.js';

/** What the agent's pipeline works with: a reading stamped by the agent's own clock. */
export interface SampledReading {
  readonly name: string;
  readonly value: number | string | boolean;
  readonly unit: string;
  /** UTC ms from `AgentClock.now()`: one time base, strictly increasing across all sources. */
  readonly time: number;
  /** The source's own timestamp, kept for forensics (GNSS time, log time, adapter time). */
  readonly sourceTime: number;
  readonly source: string;
}

interface SourceLike {
  readonly id: string;
  readings(): AsyncIterable<{
    name: string;
    value: number | string | boolean;
    unit: string;
    time: number;
    source: string;
  }>;
}

/**
 * Merges every source into one time-ordered stream by stamping each reading with the agent
 * clock as it arrives; readings from different adapters are therefore comparable even when
 * their own clocks disagree. A source that fails ends only its own branch: `onSourceError`
 * hears about it, the others go on.
 */
export async function* mergeSources(
  sources: readonly SourceLike[],
  clock: AgentClock,
  onSourceError: (sourceId: string, error: unknown) => void = () => {},
): AsyncGenerator<SampledReading> {
  const iterators = sources.map((s) => ({ id: s.id, it: s.readings()[Symbol.asyncIterator]() }));
  type Next = { index: number; result: IteratorResult<SampledReading> };
  const pending = new Map<number, Promise<Next>>();
  const pull = (index: number) => {
    const entry = iterators[index];
    if (!entry) return;
    pending.set(
      index,
      entry.it.next().then(
        (result): Next => {
          if (result.done) return { index, result: { done: true, value: undefined } };
          const r = result.value;
          const stamped: SampledReading = {
            name: r.name,
            value: r.value,
            unit: r.unit,
            time: clock.now(),
            sourceTime: r.time,
            source: r.source,
          };
          return { index, result: { done: false, value: stamped } };
        },
        (error: unknown): Next => {
          onSourceError(entry.id, error);
          return { index, result: { done: true, value: undefined } };
        },
      ),
    );
  };
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      pending.delete(index);
      if (result.done) continue;
      pull(index);
      yield result.value;
    }
  } finally {
    await Promise.all(iterators.map((e) => e.it.return?.()));
  }
}
