import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Fifo } from './fifo.js';
import {
  answerCount,
  decodeAnswers,
  type VerifyAnswer,
  type VerifyAnswers,
  type VerifyResult,
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

/** A request not yet sent to a worker. */
interface Queued {
  readonly id: number;
  readonly publicKey: string;
  readonly deviceId: string;
  readonly receivedAt: number;
  readonly bytes: Uint8Array;
}

/**
 * Requests a worker holds at most (sent, not yet answered). Enough that it never waits for
 * the main thread: about 35 ms of work, longer than a group commit that ends in a WAL
 * checkpoint keeps the main thread from sending more (20 to 40 ms). Few enough that the
 * workers end a burst together: the rest wait here and go to whichever worker answers first,
 * so one that shares its core with the main thread takes fewer. Handing every request out at
 * once instead left one worker finishing alone, a core idle: 91 % of the CPU-bound rate
 * against 98 % (bench/ingest.bench.ts).
 */
const MAX_IN_FLIGHT_PER_WORKER = 192;

/**
 * A fixed pool of worker threads that verify batches. Requests wait in one queue and are
 * sent, at the end of the tick that made them and whenever a worker answers, to the workers
 * with room, one message per worker; each worker answers in order, in messages of a few
 * dozen results, so no request can starve. Running from TypeScript sources (tests), the
 * workers load tsx; from dist/ they load the built worker file.
 */
export class VerifierPool {
  private readonly workers: Worker[] = [];
  /** Requests sent to each worker and not yet answered. */
  private readonly inFlight: number[] = [];
  /** Requests not yet sent (each holds its batch's bytes). */
  private readonly queue = new Fifo<Queued>();
  private sendScheduled = false;
  /** Callers pass the same key bytes for a device each time (cached device records). */
  private readonly keyStrings = new WeakMap<Uint8Array, string>();
  private readonly pending = new Map<number, (r: VerifyResult) => void>();
  private nextId = 0;
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
      this.inFlight.push(0);
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
    worker.on('message', (res: VerifyAnswers) => this.settle(slot, res));
    worker.on('error', (err) => this.failAll(err));
    // A worker that died is replaced, so one poisoned input cannot stop verification.
    worker.on('exit', () => {
      if (this.closed) return;
      this.inFlight[slot] = 0;
      this.workers[slot] = this.spawn(slot);
      this.scheduleSend();
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
    this.queue.push({ id, publicKey: key, deviceId, receivedAt, bytes });
    this.scheduleSend();
    return new Promise((resolve) => this.pending.set(id, resolve));
  }

  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    queueMicrotask(this.send);
  }

  /** One message to each worker with room, as many queued requests as it has room for. */
  private readonly send = (): void => {
    this.sendScheduled = false;
    this.workers.forEach((worker, slot) => {
      const room = MAX_IN_FLIGHT_PER_WORKER - (this.inFlight[slot] as number);
      const n = Math.min(this.queue.size, room);
      if (n <= 0) return;
      this.inFlight[slot] = (this.inFlight[slot] as number) + n;
      const taken = new Array<Queued>(n);
      let size = 0;
      for (let i = 0; i < n; i++) {
        const q = this.queue.shift() as Queued;
        taken[i] = q;
        size += q.bytes.byteLength;
      }
      const bytes = new Uint8Array(size);
      const ids = new Array<number>(n);
      const publicKeys = new Array<string>(n);
      const deviceIds = new Array<string>(n);
      const receivedAts = new Array<number>(n);
      const lengths = new Array<number>(n);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const q = taken[i] as Queued;
        ids[i] = q.id;
        publicKeys[i] = q.publicKey;
        deviceIds[i] = q.deviceId;
        receivedAts[i] = q.receivedAt;
        lengths[i] = q.bytes.byteLength;
        bytes.set(q.bytes, at);
        at += q.bytes.byteLength;
      }
      const request: VerifyRequests = { ids, publicKeys, deviceIds, receivedAts, lengths, bytes };
      worker.postMessage(request, [bytes.buffer]);
    });
  };

  private settle(slot: number, res: VerifyAnswers): void {
    this.inFlight[slot] = Math.max(0, (this.inFlight[slot] as number) - answerCount(res));
    if (this.queue.size > 0) this.scheduleSend();
    decodeAnswers(res, this.take);
  }

  private readonly take = (answer: VerifyAnswer): void => {
    const resolve = this.pending.get(answer.id);
    this.pending.delete(answer.id);
    resolve?.(answer);
  };

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new Error('verifier pool closed'));
  }

  private failAll(err: unknown): void {
    this.queue.clear();
    for (const [id, resolve] of this.pending) {
      resolve({ ok: false, code: 'bad-input', message: `verifier worker failed: ${String(err)}` });
      this.pending.delete(id);
    }
  }
}
