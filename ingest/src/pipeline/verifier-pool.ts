import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  unpackVerifiedBatch,
  type VerifiedBatch,
  type VerifiedBatchBytes,
} from './verified-batch.js';

/**
 * Requests for one worker, several per message: each message costs both threads far more
 * than its bytes (serialisation, a wake-up, an ArrayBuffer to sweep later), so everything
 * asked for in the same tick travels together, the batches' bytes packed in one buffer.
 */
export interface VerifyRequests {
  readonly ids: readonly number[];
  /**
   * Each device's SEC1 public key, one char per byte (latin1): a string crosses to the worker
   * without an ArrayBuffer of its own, and is the key of the worker's KeyObject cache as is.
   */
  readonly publicKeys: readonly string[];
  /** The device each batch must be of (its kid): a rotated key keeps the device's id. */
  readonly deviceIds: readonly string[];
  /** When the node received each batch: it goes into the log entry the worker encodes. */
  readonly receivedAts: readonly number[];
  /** Byte length of each batch in `bytes`, in order. */
  readonly lengths: readonly number[];
  readonly bytes: Uint8Array;
}

/** A batch that verified, without its byte fields (packed in the message's `packed`). */
export type VerifiedFields = Omit<VerifiedBatch, VerifiedBatchBytes>;

/** Answers of one worker, several per message, byte fields packed in one buffer. */
export interface VerifyResponses {
  readonly results: readonly (
    | {
        readonly id: number;
        readonly ok: true;
        readonly batch: VerifiedFields;
        /** Where the batch's byte fields lie in `packed` (packVerifiedBytes). */
        readonly at: number;
        readonly length: number;
      }
    | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string }
  )[];
  readonly packed: Uint8Array;
}

export type VerifyResult =
  | { readonly ok: true; readonly batch: VerifiedBatch }
  | { readonly ok: false; readonly code: string; readonly message: string };

interface Outbox {
  ids: number[];
  publicKeys: string[];
  deviceIds: string[];
  receivedAts: number[];
  views: Uint8Array[];
  size: number;
}

const emptyOutbox = (): Outbox => ({
  ids: [],
  publicKeys: [],
  deviceIds: [],
  receivedAts: [],
  views: [],
  size: 0,
});

/**
 * A fixed pool of worker threads that verify batches. Requests are spread round-robin and
 * sent at the end of the tick that made them, one message per worker; each worker answers in
 * order, in messages of a few dozen results, so no request can starve. Running from TypeScript
 * sources (tests), the workers load tsx; from dist/ they load the built worker file.
 */
export class VerifierPool {
  private readonly workers: Worker[] = [];
  private readonly outboxes: Outbox[] = [];
  private sendScheduled = false;
  /** Callers pass the same key bytes for a device each time (cached device records). */
  private readonly keyStrings = new WeakMap<Uint8Array, string>();
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
    for (let i = 0; i < size; i++) {
      this.workers.push(this.spawn(i));
      this.outboxes.push(emptyOutbox());
    }
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
    worker.on('message', (res: VerifyResponses) => this.settle(res));
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
   * Verifies `bytes` as a batch of `deviceId` signed with `publicKey` (SEC1, one of the keys
   * the device has held) in a worker; on success also hands back the batch prepared for
   * storage, its log entry stamped with `receivedAt`.
   */
  verify(
    bytes: Uint8Array,
    publicKey: Uint8Array,
    receivedAt: number,
    deviceId: string,
  ): Promise<VerifyResult> {
    if (this.closed) return Promise.reject(new Error('verifier pool is closed'));
    const id = this.nextId++;
    let key = this.keyStrings.get(publicKey);
    if (key === undefined) {
      key = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
        'latin1',
      );
      this.keyStrings.set(publicKey, key);
    }
    const box = this.outboxes[this.nextWorker++ % this.outboxes.length] as Outbox;
    box.ids.push(id);
    box.publicKeys.push(key);
    box.deviceIds.push(deviceId);
    box.receivedAts.push(receivedAt);
    box.views.push(bytes);
    box.size += bytes.byteLength;
    if (!this.sendScheduled) {
      this.sendScheduled = true;
      queueMicrotask(this.send);
    }
    return new Promise((resolve) => this.pending.set(id, resolve));
  }

  /** One message per worker with everything asked of it since the last one. */
  private readonly send = (): void => {
    this.sendScheduled = false;
    this.outboxes.forEach((box, slot) => {
      if (box.ids.length === 0) return;
      this.outboxes[slot] = emptyOutbox();
      const bytes = new Uint8Array(box.size);
      let at = 0;
      for (const v of box.views) {
        bytes.set(v, at);
        at += v.byteLength;
      }
      const request: VerifyRequests = {
        ids: box.ids,
        publicKeys: box.publicKeys,
        deviceIds: box.deviceIds,
        receivedAts: box.receivedAts,
        lengths: box.views.map((v) => v.byteLength),
        bytes,
      };
      this.workers[slot]?.postMessage(request, [bytes.buffer]);
    });
  };

  private settle(res: VerifyResponses): void {
    for (const r of res.results) {
      const resolve = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (!resolve) continue;
      if (r.ok) {
        resolve({ ok: true, batch: unpackVerifiedBatch(r.batch, res.packed, r.at, r.length) });
      } else {
        resolve({ ok: false, code: r.code, message: r.message });
      }
    }
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
