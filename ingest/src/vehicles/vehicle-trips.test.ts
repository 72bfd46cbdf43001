import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCycle } from '../../../test/support/drive-cycles.js';
import { deriveTrips, TRIP_SIGNALS } from '../analytics/index.js';
import { conformanceBatch, enrolConformanceDevice } from '../storage/ingest-store.conformance.js';
import type { IngestStore, SampleChunkQuery } from '../storage/ingest-store.js';
import { SqliteIngestStore } from '../storage/sqlite-store.js';
import { VehicleTrips } from './vehicle-trips.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 5, 1, 12);
type Sample = { name: string; unit: string; time: number; value: number };

/**
 * `laps` × (UDDS, then the engine off for two minutes), at 1 Hz, with a fix every 5 s from
 * `fixesFrom` seconds on, cut in batches of `seconds`.
 */
function drive(seconds: number, laps = 1, fixesFrom = 0): Sample[][] {
  const udds = loadCycle('udds');
  const lap = udds.length + 120;
  const out: Sample[] = [];
  const { speed, engineSpeed, latitude, longitude } = TRIP_SIGNALS;
  const reading = (s: { name: string; unit: string }, t: number, value: number) =>
    out.push({ name: s.name, unit: s.unit, time: T0 + t * 1_000, value });
  for (let t = 0; t < laps * lap; t++) {
    const v = udds[t % lap];
    reading(engineSpeed, t, v === undefined ? 0 : 800);
    if (v !== undefined) reading(speed, t, v);
    if (t >= fixesFrom && t % 5 === 0) {
      reading(latitude, t, 42.33 + t / 1e6);
      reading(longitude, t, -83.05);
    }
  }
  const batches: Sample[][] = [];
  for (const s of out) (batches[Math.floor((s.time - T0) / (seconds * 1_000))] ??= []).push(s);
  return batches.filter(Boolean);
}

/** The real store, its sampleChunk calls recorded (where each read started, what it read). */
function recorded(store: IngestStore) {
  const reads: { after: SampleChunkQuery['after']; batches: number }[] = [];
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'sampleChunk')
        return async (q: SampleChunkQuery) => {
          const chunk = await target.sampleChunk(q);
          reads.push({ after: q.after, batches: chunk.batches.length });
          return chunk;
        };
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapped, reads };
}

const opened: IngestStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function vehicleTrips(maxVehicles?: number) {
  const store = new SqliteIngestStore(join(mkdtempSync(join(tmpdir(), 'enginechain-trips-')), 'node.db'));
  opened.push(store);
  await enrolConformanceDevice(store);
  const { store: watched, reads } = recorded(store);
  let seq = 0;
  const stored: Sample[] = [];
  const accept = async (batches: Sample[][]) => {
    await store.acceptBatches(batches.map((b) => conformanceBatch(seq++, {}, b)));
    stored.push(...batches.flat());
  };
  /** What deriveTrips says of everything stored so far. */
  const expected = async () => deriveTrips(stored, await store.eventsByVin(VIN));
  return { trips: new VehicleTrips(watched, maxVehicles), reads, accept, expected };
} // prettier-ignore

/** Runs `ask` and says whether it read from the VIN's first batch, and how many batches. */
async function readsOf(reads: { after: unknown; batches: number }[], ask: () => Promise<unknown>) {
  const before = reads.length;
  await ask();
  const mine = reads.slice(before);
  return {
    fromStart: mine.some((r) => r.after === undefined),
    batches: mine.reduce((a, r) => a + r.batches, 0),
  };
}

describe('VehicleTrips', () => {
  it('carries trips on as batches arrive: each answer equals a derivation from the start', async () => {
    const { trips, reads, accept, expected } = await vehicleTrips();
    // 25 s batches: the state (a minute before the latest start) falls inside a batch.
    const batches = drive(25, 2);
    const seen = [];
    // In steps of 1 to 7 batches, asking after each, as a dashboard polling a car that drives.
    for (let k = 0; k < batches.length;) {
      const step = batches.slice(k, k + 1 + (k % 7));
      await accept(step);
      k += step.length;
      let answer: unknown;
      seen.push(await readsOf(reads, async () => (answer = await trips.trips(VIN))));
      expect(answer).toEqual(await expected());
    }
    const final = await trips.trips(VIN);
    expect(final.map((t) => t.complete)).toEqual([true, true]);
    expect(final[0]!.distanceKm).toBeCloseTo(11.99, 1);
    // From the start only while the saved state lay before the first GNSS fix (at T0: it
    // decides the night of the time before it too), in the first answers. Every later answer
    // read the batches from a minute before the latest on: at most 3 + 7 of 25 s.
    const restarts = seen.findIndex((r) => !r.fromStart);
    expect(restarts).toBeGreaterThan(0);
    expect(restarts).toBeLessThanOrEqual(3);
    for (const r of seen.slice(restarts)) {
      expect(r.fromStart).toBe(false);
      expect(r.batches).toBeLessThanOrEqual(10);
    }
    // Nothing new: the cached trips, nothing read.
    expect(await readsOf(reads, () => trips.trips(VIN))).toEqual({ fromStart: false, batches: 0 });
  });

  it('a batch for an earlier time (a gap filled in) derives from the start again, correctly', async () => {
    const { trips, reads, accept, expected } = await vehicleTrips();
    const batches = drive(60);
    // Batch 5 (minutes 5–6 of UDDS) arrives last, under the next seq.
    const order = [...batches.keys()].filter((k) => k !== 5);
    order.push(5);
    const fromStart: boolean[] = [];
    for (const k of order) {
      await accept([batches[k]!]);
      fromStart.push((await readsOf(reads, () => trips.trips(VIN))).fromStart);
    }
    // The first three answers (the saved state not yet past the first fix, at T0) and the late
    // batch's read from the start; the others carried on.
    expect(fromStart).toEqual([true, true, true, ...Array(order.length - 4).fill(false), true]);
    expect(await trips.trips(VIN)).toEqual(await expected());
  });

  it('reads a long history an hour of batches at a time', async () => {
    const { trips, reads, accept, expected } = await vehicleTrips();
    await accept(drive(10, 7)); // 7 laps, 2.9 h: 1,043 batches
    const first = await readsOf(reads, () => trips.trips(VIN));
    expect(first).toEqual({ fromStart: true, batches: 1_043 });
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...reads.map((r) => r.batches))).toBe(360);
    expect(await trips.trips(VIN)).toEqual(await expected());
  });

  it('a history whose first GNSS fix comes after its first hour is derived in one step', async () => {
    const { trips, reads, accept, expected } = await vehicleTrips();
    await accept(drive(10, 3, 4_000)); // the first fix at 4,000 s, in the second hour
    const answer = await trips.trips(VIN);
    expect(answer).toEqual(await expected());
    expect(answer.every((t) => t.nightBasis === 'sun')).toBe(true);
    // An hour at a time first; that cannot go on past the fix; then all of it at once.
    expect(reads.filter((r) => r.after === undefined).map((r) => r.batches)).toEqual([360, 447]);
  });

  it('concurrent requests share one derivation', async () => {
    const { trips, reads, accept } = await vehicleTrips();
    await accept(drive(60).slice(0, 10));
    const answers = await Promise.all(Array.from({ length: 5 }, () => trips.trips(VIN)));
    expect(reads).toHaveLength(1);
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]!.length).toBeGreaterThan(0);
  });

  it('keeps the vehicles asked for most recently; another is derived from the start again', async () => {
    const other = '5YJSA1E18HF000337';
    for (const [maxVehicles, readAgain] of [
      [1, true],
      [2, false],
    ] as const) {
      const { trips, reads, accept } = await vehicleTrips(maxVehicles);
      await accept(drive(60).slice(0, 5));
      const first = await trips.trips(VIN);
      expect(await trips.trips(other)).toEqual([]);
      const again = await readsOf(reads, async () => expect(await trips.trips(VIN)).toEqual(first));
      expect(again.fromStart).toBe(readAgain);
    }
    await expect(vehicleTrips(0)).rejects.toThrow(RangeError);
  });
});
