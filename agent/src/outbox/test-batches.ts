import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AppendBatchInput, ChainHead, OutboxBatchKind } from './outbox-store.js';

/**
 * Test material: batch bytes that carry their own chain link, `prev ‖ seq (u64 BE) ‖ kind ‖
 * filler`, so a test can check from the stored bytes alone that no row is torn or forked.
 * The outbox itself treats bytes as opaque; real batches are COSE_Sign1 from shared/batch.
 */
export function chainedBatch(
  head: ChainHead,
  kind: OutboxBatchKind,
  size: number,
  options: { random?: () => number; declaredDrops?: readonly number[]; time?: number } = {},
): AppendBatchInput {
  if (size < 41) throw new RangeError('size: a chained test batch needs ≥ 41 bytes');
  const random = options.random ?? Math.random;
  const bytes = new Uint8Array(size);
  bytes.set(head.prevHash, 0);
  new DataView(bytes.buffer).setBigUint64(32, BigInt(head.nextSeq));
  bytes[40] = { trace: 0, event: 1, routine: 2 }[kind];
  for (let i = 41; i < size; i++) bytes[i] = Math.floor(random() * 256);
  const time = options.time ?? 1_700_000_000_000 + head.nextSeq * 10_000;
  return {
    seq: head.nextSeq,
    hash: new Uint8Array(createHash('sha256').update(bytes).digest()),
    prev: head.prevHash,
    bytes,
    kind,
    sampleCount: size >> 4,
    firstTime: time,
    lastTime: time + 9_999,
    ...(options.declaredDrops ? { declaredDrops: options.declaredDrops } : {}),
  };
}

/** Deterministic PRNG (mulberry32) so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A running append-loop.fixture.ts process (another agent's outbox work, for crash tests). */
export interface AppendLoop {
  /** The chain's next seq when the child had opened the outbox. */
  readonly startSeq: number;
  /** SIGKILLs the child; resolves with the signal it ended by and what it wrote to stderr. */
  kill(): Promise<{ signal: NodeJS.Signals | null; stderr: string }>;
}

const APPEND_LOOP = fileURLToPath(new URL('./append-loop.fixture.ts', import.meta.url));

/** Starts the append loop on the outbox at `path` and resolves once it has opened it. */
export async function startAppendLoop(
  path: string,
  deviceId: string,
  seed: number,
): Promise<AppendLoop> {
  const child = spawn(process.execPath, ['--import', 'tsx', APPEND_LOOP, path, deviceId, String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }); // prettier-ignore
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const startSeq = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /ready (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`child exited before ready: ${stderr}`)));
  });
  return {
    startSeq,
    kill: async () => {
      child.kill('SIGKILL');
      return { signal: await exited, stderr };
    },
  };
}
