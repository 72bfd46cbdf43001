import {
  batchHash,
  buildBatchPayload,
  signBatch,
  WireFormatError,
  type BatchEvent,
  type ClockSource,
  type DeviceKey,
} from '@enginechain/shared';
import type { BatchContent } from '../batching/batch-assembler.js';
import type { OutboxStore } from '../outbox/outbox-store.js';
import type { AgentClock } from '../sampling/agent-clock.js';

export interface SignedBatchInfo {
  readonly seq: number;
  readonly kind: BatchContent['kind'];
  readonly bytes: number;
  readonly samples: number;
}

/**
 * Turns assembled content into signed batches in the outbox, continuing the chain from the
 * outbox's head (so a restart after SIGKILL neither skips nor repeats a seq). Content too large
 * for one batch is split in time order; drops evicted by the quota are declared in the next
 * batch.
 */
export class BatchSigner {
  /**
   * Clock jumps taken from the clock and not yet in a stored batch: a batch that fails to sign
   * or store (quota, disk) must not take them with it.
   */
  private unstoredJumps: ReturnType<AgentClock['takeJumps']> = [];

  constructor(
    private readonly key: DeviceKey,
    private readonly vin: string,
    private readonly outbox: OutboxStore,
    private readonly clock: AgentClock,
  ) {}

  sign(content: BatchContent): SignedBatchInfo[] {
    try {
      return [this.signOne(content)];
    } catch (err) {
      if (
        !(err instanceof WireFormatError && err.code === 'too-large') ||
        content.readings.length < 2
      )
        throw err;
      const half = Math.floor(content.readings.length / 2);
      const first = content.readings.slice(0, half);
      const second = content.readings.slice(half);
      return [
        ...this.sign({ ...content, readings: first, end: first.at(-1)?.time ?? content.start }),
        ...this.sign({
          ...content,
          readings: second,
          events: [],
          start: second[0]?.time ?? content.start,
        }),
      ];
    }
  }

  private signOne(content: BatchContent): SignedBatchInfo {
    const head = this.outbox.chainHead();
    const drops = this.outbox.pendingDrops();
    this.unstoredJumps.push(...this.clock.takeJumps());
    // The readings are the samples: the wire format rounds their times to whole ms itself.
    const samples = content.readings;
    const events: BatchEvent[] = content.events.map((e) => ({
      type: e.type,
      priority: e.priority,
      start: Math.round(e.start),
      end: Math.round(Math.max(e.end, e.start)),
      data: e.data,
    }));
    // Loops, not Math.min(...xs): a crash trace holds tens of thousands of samples.
    let first = Infinity;
    let last = -Infinity;
    for (const s of samples) {
      const time = Math.round(s.time);
      if (time < first) first = time;
      if (time > last) last = time;
    }
    let start = first;
    for (const e of events) if (e.start < start) start = e.start;
    if (start === Infinity) start = Math.round(content.start);
    const payload = buildBatchPayload({
      kind: content.kind,
      deviceId: this.key.deviceId,
      vin: this.vin,
      seq: head.nextSeq,
      prev: head.prevHash,
      start,
      clock: {
        source: this.clock.source satisfies ClockSource,
        jumps: this.unstoredJumps.map((j) => ({
          at: Math.round(j.at),
          deltaMs: Math.round(j.deltaMs),
          from: j.from,
          to: j.to,
        })),
      },
      samples,
      events,
      dropped: drops.map((d) => ({
        seq: d.seq,
        hash: d.hash,
        samples: d.sampleCount,
        start: d.firstTime,
        end: d.lastTime,
      })),
    });
    const bytes = signBatch(payload, this.key);
    this.outbox.appendBatch({
      seq: head.nextSeq,
      hash: batchHash(bytes),
      prev: head.prevHash,
      bytes,
      kind: content.kind,
      sampleCount: samples.length,
      firstTime: samples.length ? first : start,
      lastTime: samples.length ? last : start,
      declaredDrops: drops.map((d) => d.seq),
    });
    this.unstoredJumps = [];
    return { seq: head.nextSeq, kind: content.kind, bytes: bytes.length, samples: samples.length };
  }
}
