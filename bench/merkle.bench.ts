/**
 * Merkle log (shared/src/merkle): append rate up to 1M leaves, then proof generation and
 * verification at 1M and 10M leaves, and the memory the in-memory node store takes.
 * Imports the merkle folder directly so `npx tsx bench/run.ts merkle` needs no build.
 */
import {
  MemoryNodeStore,
  MerkleLog,
  leafHash,
  verifyConsistency,
  verifyInclusion,
} from '../shared/src/merkle/index.js';
import { fmt, type BenchRow, type BenchSection } from './report.js';

const MILLION = 1_000_000;
const SAMPLES = 2_000;

/** A deterministic pseudo-random sequence, so runs compare like for like. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A 120-byte entry standing in for a signed-batch log entry; the index makes each distinct. */
function entryBytes(i: number, buf: Uint8Array): Uint8Array {
  new DataView(buf.buffer).setFloat64(0, i);
  return buf;
}

function proofRows(log: MerkleLog, label: string): BenchRow[] {
  const size = log.size;
  const random = lcg(size);
  const root = log.root();
  const rootsBySize = new Map<number, Uint8Array>();
  const cases = Array.from({ length: SAMPLES }, () => {
    const index = Math.floor(random() * size);
    const size1 = 1 + Math.floor(random() * (size - 1));
    if (!rootsBySize.has(size1)) rootsBySize.set(size1, log.root(size1));
    return { index, size1 };
  });

  let t = performance.now();
  const inclusion = cases.map(({ index }) => log.inclusionProof(index));
  const inclusionGen = (performance.now() - t) / SAMPLES;
  t = performance.now();
  const consistency = cases.map(({ size1 }) => log.consistencyProof(size1));
  const consistencyGen = (performance.now() - t) / SAMPLES;

  // The entries are regenerated rather than read back: an auditor holds the entry, not the log.
  const leaves = cases.map(({ index }) => leafHash(entryBytes(index, new Uint8Array(120))));
  t = performance.now();
  cases.forEach(({ index }, i) =>
    verifyInclusion(
      BigInt(index),
      BigInt(size),
      leaves[i] as Uint8Array,
      inclusion[i] as Uint8Array[],
      root,
    ),
  );
  const inclusionVerify = (performance.now() - t) / SAMPLES;
  t = performance.now();
  cases.forEach(({ size1 }, i) =>
    verifyConsistency(
      BigInt(size1),
      BigInt(size),
      rootsBySize.get(size1) as Uint8Array,
      root,
      consistency[i] as Uint8Array[],
    ),
  );
  const consistencyVerify = (performance.now() - t) / SAMPLES;

  const row = (metric: string, ms: number): BenchRow => ({
    metric: `${metric} at ${label} leaves`,
    value: `${fmt(ms * 1000, 1)} µs`,
    goal: '< 1 ms',
    met: ms < 1,
  });
  return [
    row('inclusion proof generation', inclusionGen),
    row('inclusion proof verification', inclusionVerify),
    row('consistency proof generation', consistencyGen),
    row('consistency proof verification', consistencyVerify),
  ];
}

export async function run(): Promise<BenchSection> {
  const rows: BenchRow[] = [];
  const store = new MemoryNodeStore();
  const log = new MerkleLog(store);
  const buf = new Uint8Array(120);
  const heapBefore = process.memoryUsage();

  const start = performance.now();
  for (let i = 0; i < MILLION; i++) log.append(entryBytes(i, buf));
  const appendSeconds = (performance.now() - start) / 1000;
  const rate = MILLION / appendSeconds;
  rows.push({
    metric: 'appends (120-byte entries, node:crypto SHA-256) to 1M leaves',
    value: `${fmt(rate)} /s`,
    goal: '≥ 100,000 /s',
    met: rate >= 100_000,
  });
  rows.push(...proofRows(log, '1M'));

  const start10 = performance.now();
  for (let i = MILLION; i < 10 * MILLION; i++) log.append(entryBytes(i, buf));
  const rate10 = (9 * MILLION) / ((performance.now() - start10) / 1000);
  rows.push({ metric: 'appends from 1M to 10M leaves', value: `${fmt(rate10)} /s` });
  rows.push(...proofRows(log, '10M'));

  const after = process.memoryUsage();
  rows.push({
    metric: 'node store for 10M leaves (all levels, 32 B per node)',
    value: `${fmt(store.allocatedBytes / 2 ** 20)} MiB`,
  });
  rows.push({
    metric: 'process RSS growth for 10M leaves',
    value: `${fmt((after.rss - heapBefore.rss) / 2 ** 20)} MiB`,
  });

  return {
    title: 'Merkle log (RFC 9162) and proofs',
    rows,
    notes: [
      `Appends hash each entry as a leaf and write every completed subtree to MemoryNodeStore (per-level 256 KiB chunks).`,
      `Proof rows: mean over ${fmt(SAMPLES)} random leaf indices / old sizes against the current size; generation reads the store, verification is the standalone verify.ts (bigint indices; SHA-256 from the crypto backend: node:crypto here, @noble/hashes in a browser).`,
    ],
  };
}
