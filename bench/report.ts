/** What one benchmark module returns; bench/run.ts renders every section into docs/benchmarks.md. */
export interface BenchRow {
  /** What was measured, e.g. `secp256k1 verify (node:crypto)`. */
  readonly metric: string;
  /** The measured figure, already formatted (e.g. `3,215 /s`). */
  readonly value: string;
  /** The goal from the issue, e.g. `≥ 80 % of node:crypto`; empty where there is none. */
  readonly goal?: string;
  /** Whether the goal was met; undefined where there is no goal. */
  readonly met?: boolean;
}

export interface BenchSection {
  readonly title: string;
  readonly rows: readonly BenchRow[];
  /** Method notes: inputs, repetitions, what the peer figures are. */
  readonly notes?: readonly string[];
}

export type BenchModule = { run(): Promise<BenchSection> };

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export function opsPerSecond(fn: () => void, minMs = 1_000): number {
  for (let i = 0; i < 50; i++) fn(); // warm-up so the JIT has compiled the hot path
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}
