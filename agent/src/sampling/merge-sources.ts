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

/** Readings the merge holds for a slow consumer before it stops pulling from the sources. */
const MERGE_BUFFER_LIMIT = 10_000;

/**
 * Merges every source into one time-ordered stream by stamping each reading with the agent
 * clock as it arrives; readings from different adapters are therefore comparable even when
 * their own clocks disagree. A source that fails ends only its own branch: `onSourceError`
 * hears about it, the others go on.
 *
 * Each source is pumped into one shared buffer that the consumer drains, rather than raced
 * with Promise.race per reading: at 1,000 readings/s that race was the agent's largest source
 * of garbage (and so of resident memory) on an interpreter-only Node.
 */
export async function* mergeSources(
  sources: readonly SourceLike[],
  clock: AgentClock,
  onSourceError: (sourceId: string, error: unknown) => void = () => {},
): AsyncGenerator<SampledReading> {
  const iterators = sources.map((s) => ({ id: s.id, it: s.readings()[Symbol.asyncIterator]() }));
  const buffer: SampledReading[] = [];
  let head = 0;
  let live = iterators.length;
  let stopped = false;
  let wakeConsumer: (() => void) | undefined;
  let wakePumps: (() => void) | undefined;
  let drained: Promise<void> | undefined;
  const notifyConsumer = () => {
    const wake = wakeConsumer;
    wakeConsumer = undefined;
    wake?.();
  };
  const pump = async (entry: (typeof iterators)[number]) => {
    try {
      for (;;) {
        const result = await entry.it.next();
        if (result.done || stopped) return;
        const r = result.value;
        buffer.push({
          name: r.name,
          value: r.value,
          unit: r.unit,
          time: clock.now(),
          sourceTime: r.time,
          source: r.source,
        });
        notifyConsumer();
        if (buffer.length - head >= MERGE_BUFFER_LIMIT) {
          drained ??= new Promise<void>((resolve) => (wakePumps = resolve));
          await drained;
        }
      }
    } catch (error) {
      if (!stopped) onSourceError(entry.id, error);
    } finally {
      live--;
      notifyConsumer();
    }
  };
  iterators.forEach((entry) => void pump(entry));
  try {
    for (;;) {
      while (head < buffer.length) {
        const reading = buffer[head] as SampledReading;
        head++;
        yield reading;
        // Sources may keep the buffer from ever running dry: drop what was consumed.
        if (head >= 4_096) {
          buffer.splice(0, head);
          head = 0;
        }
      }
      buffer.length = 0;
      head = 0;
      if (wakePumps) {
        const wake = wakePumps;
        wakePumps = undefined;
        drained = undefined;
        wake();
      }
      if (live === 0) return;
      await new Promise<void>((resolve) => (wakeConsumer = resolve));
    }
  } finally {
    stopped = true;
    wakePumps?.();
    await Promise.all(iterators.map((e) => e.it.return?.()));
  }
}
