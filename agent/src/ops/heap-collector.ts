/**
 * A full garbage collection every `everyMs`, when Node exposes `gc` (`--expose-gc`, set by the
 * systemd unit in hardware/kit). The agent allocates steadily (readings, promises, a batch cut
 * every few seconds) and some of it lives long enough to be promoted to V8's old generation;
 * V8 lets that grow by several MB before it collects on its own, and on a board with little
 * RAM that growth is resident memory. A full collection of the agent's ~10 MB heap takes a few
 * ms (docs/benchmarks.md measures the agent with it). Without `gc` it does nothing.
 *
 * Returns a function that stops it.
 */
export function startHeapCollector(everyMs: number): () => void {
  if (!(everyMs > 0)) throw new RangeError('everyMs must be > 0');
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return () => {};
  const timer = setInterval(() => gc(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
