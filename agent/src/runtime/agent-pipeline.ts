import { TripTracker, type Trip } from '@enginechain/shared';
import type { BatchContent } from '../batching/batch-assembler.js';
import { BatchAssembler } from '../batching/batch-assembler.js';
import {
  CrashRecorder,
  type CrashRecorderOptions,
  type CrashTrace,
} from '../crash/crash-recorder.js';
import { EventDetector } from '../events/event-detector.js';
import type { DrivingEvent, EventThresholds } from '../events/types.js';
import type { SampledReading } from '../sampling/merge-sources.js';
import type { BatchSigner, SignedBatchInfo } from './batch-signer.js';

export interface AgentPipelineOptions {
  readonly signer: BatchSigner;
  readonly events: Partial<EventThresholds>;
  readonly crash: Partial<CrashRecorderOptions>;
  readonly batching: { readonly maxAgeMs: number; readonly maxSamples: number };
  readonly rates: Readonly<Record<string, number>>;
  readonly onBatch?: (info: SignedBatchInfo) => void;
  readonly onEvent?: (event: DrivingEvent) => void;
  readonly onTrip?: (trip: Trip) => void;
  readonly onError?: (err: unknown) => void;
}

/**
 * Everything between the merged reading stream and the outbox, synchronous and in order:
 * every reading goes to the crash ring (native rate), the event detector, the trip tracker
 * and the batch assembler; a crash trigger becomes two locked trace batches (the 20 s before
 * at once, the 10 s after when they have passed), events ride in `event` batches, the rest in
 * `routine` ones.
 */
export class AgentPipeline {
  readonly detector: EventDetector;
  readonly crash: CrashRecorder;
  readonly trips: TripTracker;
  private readonly assembler: BatchAssembler;
  private crashCount = 0;
  samples = 0;
  readonly eventLog: DrivingEvent[] = [];
  readonly tripLog: Trip[] = [];

  constructor(private readonly o: AgentPipelineOptions) {
    this.detector = new EventDetector(o.events);
    this.crash = new CrashRecorder(o.crash);
    this.trips = new TripTracker();
    this.assembler = new BatchAssembler({ ...o.batching, rates: o.rates });
  }

  push(r: SampledReading): void {
    this.samples++;
    for (const trace of this.crash.push(r)) this.storeTrace(trace);
    for (const e of this.detector.push(r)) this.onEvent(e);
    const trip = this.trips.push(r.name, r.value, r.time);
    if (trip) this.onTrip(trip);
    const batch = this.assembler.push(r);
    if (batch) this.store(batch);
  }

  /** Cuts the pending batch when it is old enough although no new reading arrived. */
  tick(now: number): void {
    const oldest = this.assembler.oldestTime;
    if (oldest !== undefined && now - oldest >= this.o.batching.maxAgeMs) {
      const b = this.assembler.cut();
      if (b) this.store(b);
    }
  }

  /** Shutdown: close runs, finish traces with what they have, cut the last batch. */
  flush(): void {
    for (const e of this.detector.flush()) this.onEvent(e);
    for (const trace of this.crash.flush()) this.storeTrace(trace);
    const trip = this.trips.end();
    if (trip) this.onTrip(trip);
    const b = this.assembler.cut();
    if (b) this.store(b);
  }

  private onEvent(e: DrivingEvent): void {
    this.eventLog.push(e);
    this.o.onEvent?.(e);
    if (e.type === 'crash') {
      // The crash event travels with the first part of its trace, stored (locked, first to be
      // sent) before the next reading is taken.
      this.storeTrace(this.crash.trigger(e));
      return;
    }
    this.assembler.addEvent(e);
  }

  private onTrip(trip: Trip): void {
    this.tripLog.push(trip);
    this.o.onTrip?.(trip);
  }

  private storeTrace(trace: CrashTrace): void {
    const { readings } = trace;
    if (trace.part === 'after') {
      // No event: the crash event is in the `before` part; this one is its continuation,
      // the next trace batch of the device covering (trigger, trigger + postMs].
      if (readings.length > 0)
        this.store({ kind: 'trace', start: trace.from, end: trace.to, readings, events: [] });
      return;
    }
    const id = `crash-${Math.round(trace.triggerTime)}-${++this.crashCount}`;
    this.store({
      kind: 'trace',
      start: trace.from,
      end: trace.to,
      readings,
      events: [
        {
          ...trace.event,
          data: { ...trace.event.data, traceId: id, samplesBefore: readings.length },
        },
      ],
    });
  }
  private store(content: BatchContent): void {
    try {
      for (const info of this.o.signer.sign(content)) this.o.onBatch?.(info);
    } catch (err) {
      this.o.onError?.(err);
    }
  }
}
