import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { VerifiedBatch } from './verified-batch.js';

export interface VerifyRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly publicKey: Uint8Array;
  /** When the node received the batch: it goes into the log entry the worker encodes. */
  readonly receivedAt: number;
}

export type VerifyResponse =
  | {
      readonly id: number;
      readonly ok: true;
      readonly batch: VerifiedBatch;
    }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

export type VerifyResult =
  | { readonly ok: true; readonly batch: VerifiedBatch }
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * A fixed pool of worker threads that verify batches. Requests are spread round-robin; each
 * worker answers in order, so no request can starve. Running from TypeScript sources (tests),
 * the workers load tsx; from dist/ they load the built worker file.
 */
export class VerifierPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, (r: VerifyResult) => void>();
  private nextId = 0;
  private nextWorker = 0;
  private closed = false;

  private readonly url: URL;
  private readonly fromSource: boolean;

  constructor(size: number = Math.max(1, availableParallelism())) {
    this.fromSource = import.meta.url.endsWith('.ts');
    this.url = this.fromSource
      ? new URL('./verify-worker.ts', import.meta.url)
      : new URL('./verify-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) this.workers.push(this.spawn(i));
  }

  private spawn(slot: number): Worker {
    // From TypeScript sources (tests) the worker needs tsx registered inside it: Node 20 does
    // not pass --import hooks on to worker threads.
    const worker = this.fromSource
      ? new Worker(
          `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(this.url.href)}); });`,
          { eval: true, execArgv: ['--conditions=source'] },
        )
      : new Worker(this.url);
    worker.on('message', (res: VerifyResponse) => {
      const resolve = this.pending.get(res.id);
      this.pending.delete(res.id);
      if (!resolve) return;
      const { id: _id, ...result } = res;
      resolve(result as VerifyResult);
    });
    worker.on('error', (err) => this.failAll(err));
    // A worker that died is replaced, so one poisoned input cannot stop verification.
    worker.on('exit', () => {
      if (!this.closed) this.workers[slot] = this.spawn(slot);
    });
    return worker;
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Verifies `bytes` against `publicKey` (SEC1) in a worker; on success also hands back the
   * batch prepared for storage, its log entry stamped with `receivedAt`.
   */
  verify(bytes: Uint8Array, publicKey: Uint8Array, receivedAt: number): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new Error('verifier pool is closed'));
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    // Structured clone copies a view's whole ArrayBuffer: send only the batch's own bytes.
    const own = bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker?.postMessage({ id, bytes: own, publicKey, receivedAt } satisfies VerifyRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('verifier pool closed'));
  }

  private failAll(err: unknown): void {
    for (const [id, resolve] of this.pending) {
      resolve({ ok: false, code: 'bad-input', message: `verifier worker failed: ${String(err)}` });
      this.pending.delete(id);
    }
  }
}
