import { decodeLogEntry, type Ed25519NoteSigner } from '@enginechain/shared';
import { drivingScore } from '../analytics/index.js';
import type { VehicleScope } from '../access/access-service.js';
import { buildEvidence } from '../evidence/evidence-builder.js';
import type { Sidechain } from '../sidechain/sidechain.js';
import type { IngestStore, StoredEvent, StoredSample } from '../storage/ingest-store.js';
import { VehicleTrips } from './vehicle-trips.js';

export type TimeRanges = VehicleScope['ranges'];

/** Charted over a trip and around an event. */
export const CHART_SIGNALS = [
  'Vehicle.Speed',
  'Vehicle.Powertrain.CombustionEngine.Speed',
  'Vehicle.Acceleration.Longitudinal',
] as const;

export interface Series {
  readonly unit: string;
  readonly t: number[];
  readonly v: number[];
}

const inRanges = (t: number, ranges: TimeRanges) => ranges.some(([a, b]) => t >= a && t <= b);
const hull = (ranges: TimeRanges, from: number, to: number): [number, number] => [
  Math.max(from, Math.min(...ranges.map((r) => r[0]))),
  Math.min(to, Math.max(...ranges.map((r) => r[1]))),
];

/** Around an event the trace covers what the crash recorder keeps: 20 s before, 10 s after. */
const TRACE_BEFORE_MS = 20_000;
const TRACE_AFTER_MS = 10_000;

/**
 * Read side of a vehicle's data for the API, always within a scope's time ranges: trips and
 * scores are recomputed from the stored signed samples, never taken from the device's word.
 */
export class VehicleData {
  private readonly vehicleTrips: VehicleTrips;

  constructor(
    private readonly store: IngestStore,
    private readonly sidechain: Sidechain,
    private readonly evidenceSigner: Ed25519NoteSigner,
    /** What one evidence file may hold (buildEvidence's default when absent). */
    private readonly evidenceLimits?: { readonly batches: number; readonly bytes: number },
  ) {
    this.vehicleTrips = new VehicleTrips(store);
  }

  async trips(vin: string, ranges: TimeRanges, from = 0, to = Number.MAX_SAFE_INTEGER) {
    const all = await this.vehicleTrips.trips(vin);
    return all.filter(
      (t) => t.end >= from && t.start <= to && ranges.some(([a, b]) => t.start >= a && t.end <= b),
    );
  }

  async score(vin: string, ranges: TimeRanges) {
    return drivingScore(await this.trips(vin, ranges));
  }

  async series(
    vin: string,
    ranges: TimeRanges,
    from: number,
    to: number,
    names: readonly string[] = CHART_SIGNALS,
  ): Promise<Record<string, Series>> {
    const [a, b] = hull(ranges, from, to);
    const out: Record<string, Series> = {};
    if (a > b) return out;
    for (const s of await this.store.samplesByVin(vin, a, b, names)) {
      if (typeof s.value !== 'number' || !inRanges(s.time, ranges)) continue;
      const series = (out[s.name] ??= { unit: s.unit, t: [], v: [] });
      series.t.push(s.time);
      series.v.push(s.value);
    }
    return out;
  }

  async samplePage(q: {
    vin: string;
    ranges: TimeRanges;
    from: number;
    to: number;
    names?: readonly string[];
    after?: { time: number; id: number };
    limit: number;
  }): Promise<{ samples: StoredSample[]; next: { time: number; id: number } | undefined }> {
    const [a, b] = hull(q.ranges, q.from, q.to);
    if (a > b) return { samples: [], next: undefined };
    const page = await this.store.samplePage({ ...q, from: a, to: b });
    return {
      samples: page.samples
        .filter((s) => inRanges(s.time, q.ranges))
        .map(({ name, time, value, unit }) => ({ name, time, value, unit })),
      next: page.next,
    };
  }

  async events(vin: string, ranges: TimeRanges, from = 0, to = Number.MAX_SAFE_INTEGER) {
    return (await this.store.eventsByVin(vin)).filter(
      (e) => e.start >= from && e.start <= to && inRanges(e.start, ranges),
    );
  }

  async event(vin: string, id: number, ranges: TimeRanges): Promise<StoredEvent | undefined> {
    const e = await this.store.eventById(id);
    return e && e.vin === vin && inRanges(e.start, ranges) ? e : undefined;
  }

  async trace(vin: string, e: StoredEvent, ranges: TimeRanges) {
    return this.series(vin, ranges, e.start - TRACE_BEFORE_MS, e.end + TRACE_AFTER_MS);
  }

  async evidence(vin: string, eventId: number): Promise<Uint8Array> {
    return buildEvidence({
      store: this.store,
      sidechain: this.sidechain,
      signer: this.evidenceSigner,
      request: { vin, eventId },
      ...(this.evidenceLimits ? { limits: this.evidenceLimits } : {}),
    });
  }

  /** The log entry behind a leaf and its inclusion proof at the latest checkpoint. */
  async leaf(leafIndex: number) {
    const cp = this.sidechain.latestCheckpoint;
    const stored = await this.store.logEntry(leafIndex);
    if (!stored) return undefined;
    const proof =
      cp && leafIndex < cp.treeSize
        ? await this.sidechain.inclusionProof(leafIndex, cp.treeSize)
        : null;
    return {
      leafIndex,
      entry: stored.entry,
      leafHash: stored.leafHash,
      decoded: decodeLogEntry(stored.entry),
      treeSize: cp?.treeSize ?? null,
      proof,
    };
  }
}
