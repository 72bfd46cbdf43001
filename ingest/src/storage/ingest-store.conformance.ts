/**
 * One conformance suite for every `IngestStore` (and its `AccessStore`): each backend's test
 * file calls `ingestStoreConformance` with a way to open an empty store, and the same
 * assertions run against SQLite and PostgreSQL. Backend-specific things (file pragmas, schema
 * migrations of old files) stay in the backend's own test file.
 */
import { createHash } from 'node:crypto';
import {
  buildBatchPayload,
  generateDeviceKey,
  leafHash,
  nodeHash,
  signBatch,
  ZERO_HASH,
} from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { toAcceptedBatch, toVerifiedBatch } from '../pipeline/verified-batch.js';
import type { AcceptedBatch, IngestStore } from './ingest-store.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const text = (s: string) => new TextEncoder().encode(s);
const KEY = generateDeviceKey();
const DEVICE = KEY.deviceId;
const VIN = '1HGCM82633A004352';
const OTHER_VIN = '5YJSA1E18HF000337';

/** RFC 9162 MTH straight from the definition, to check the stored node hashes against. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

type SampleInput = { name: string; unit: string; time: number; value: number | string | boolean };

/** A real signed batch of DEVICE, as the pipeline hands it to the store (samples in its bytes). */
export function conformanceBatch(
  seq: number,
  over: Partial<AcceptedBatch> = {},
  samples: SampleInput[] = [
    { name: 'Vehicle.Speed', unit: 'km/h', time: seq * 10_000, value: 42.5 },
    { name: 'Vehicle.OBD.DTCList', unit: '', time: seq * 10_000 + 1, value: 'P0301' },
  ],
): AcceptedBatch {
  const events = seq === 1 ? [{ type: 'harsh-braking', priority: 'high' as const, start: 10_500, end: 11_000, data: { peakMs2: -3.2 } }] : [];
  const payload = buildBatchPayload({ deviceId: DEVICE, vin: VIN, seq, prev: ZERO_HASH, clock: { source: 'gnss', jumps: [] }, samples, events });
  const bytes = signBatch(payload, KEY);
  return { ...toAcceptedBatch(toVerifiedBatch(payload, bytes, 1), bytes, VIN, false), ...over };
} // prettier-ignore
const batch = conformanceBatch;

/** Enrols DEVICE for VIN (owner fleet-1) the way EnrolmentService does; its leaf is 0. */
export async function enrolConformanceDevice(s: IngestStore, owner = 'fleet-1') {
  const tokenHash = sha('token');
  await s.addEnrolmentToken({ tokenHash, vin: VIN, owner, createdAt: 0, expiresAt: 1_000 });
  const r = await s.registerDevice({
    tokenHash, deviceId: DEVICE, publicKey: sha('pub'), vinSalt: new Uint8Array(16), now: 10,
    logEntry: (vin) => text(`registration ${vin}`),
  }); // prettier-ignore
  return { r, tokenHash };
}

/**
 * Registers the suite for one backend. `open` gives a new, empty, migrated store each time;
 * the suite closes it.
 */
/** Opens stores for a test and closes every one of them after it. */
function storesClosedAfterEach(open: () => Promise<IngestStore>): () => Promise<IngestStore> {
  const opened: IngestStore[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
  });
  return async () => {
    const s = await open();
    opened.push(s);
    return s;
  };
}

export function ingestStoreConformance(backend: string, open: () => Promise<IngestStore>): void {
  describe(`IngestStore conformance: ${backend}`, () => {
    const store = storesClosedAfterEach(open);
    const enrolled = enrolConformanceDevice;

    it('uses an enrolment token once, logs the registration, refuses reuse, expiry and a second device id', async () => {
      const s = await store();
      const { r, tokenHash } = await enrolled(s);
      expect(r).toMatchObject({ leafIndex: 0, device: { deviceId: DEVICE, vin: VIN, owner: 'fleet-1', status: 'active', nextSeq: 0, registrationLeaf: 0, registeredAt: 10 } });
      expect((await s.logEntry(0))?.entry).toEqual(text(`registration ${VIN}`));
      const again = await s.registerDevice({ tokenHash, deviceId: 'e'.repeat(32), publicKey: sha('x'), now: 11, vinSalt: new Uint8Array(16), logEntry: () => sha('y') });
      expect(again).toEqual({ error: 'token-used' });
      await s.addEnrolmentToken({ tokenHash: sha('old'), vin: VIN, owner: undefined, createdAt: 0, expiresAt: 5 });
      expect(await s.registerDevice({ tokenHash: sha('old'), deviceId: 'f'.repeat(32), publicKey: sha('x'), now: 6, vinSalt: new Uint8Array(16), logEntry: () => sha('y') })).toEqual({ error: 'token-expired' });
      expect(await s.registerDevice({ tokenHash: sha('never'), deviceId: 'f'.repeat(32), publicKey: sha('x'), now: 6, vinSalt: new Uint8Array(16), logEntry: () => sha('y') })).toEqual({ error: 'unknown-token' });
      await s.addEnrolmentToken({ tokenHash: sha('second'), vin: VIN, owner: undefined, createdAt: 0, expiresAt: 1_000 });
      expect(await s.registerDevice({ tokenHash: sha('second'), deviceId: DEVICE, publicKey: sha('x'), now: 12, vinSalt: new Uint8Array(16), logEntry: () => sha('y') })).toEqual({ error: 'device-exists' });
      expect(await s.logSize()).toBe(1);
    }); // prettier-ignore

    it('registers all or nothing: a failure building the entry leaves the token unused and no device', async () => {
      const s = await store();
      await s.addEnrolmentToken({
        tokenHash: sha('t'),
        vin: VIN,
        owner: undefined,
        createdAt: 0,
        expiresAt: 1_000,
      });
      const failing = s.registerDevice({
        tokenHash: sha('t'), deviceId: DEVICE, publicKey: sha('pub'), vinSalt: new Uint8Array(16), now: 1,
        logEntry: () => { throw new Error('entry failed'); },
      }); // prettier-ignore
      await expect(failing).rejects.toThrow('entry failed');
      expect(await s.getDevice(DEVICE)).toBeUndefined();
      expect(await s.logSize()).toBe(0);
      const retried = await s.registerDevice({ tokenHash: sha('t'), deviceId: DEVICE, publicKey: sha('pub'), vinSalt: new Uint8Array(16), now: 2, logEntry: () => sha('e') }); // prettier-ignore
      expect(retried).toMatchObject({ leafIndex: 0 });
    });

    it('lists devices by registration and by VIN, and counts devices, vehicles and batches', async () => {
      const s = await store();
      await enrolled(s);
      await s.addEnrolmentToken({
        tokenHash: sha('t2'),
        vin: OTHER_VIN,
        owner: 'fleet-2',
        createdAt: 0,
        expiresAt: 1_000,
      });
      await s.registerDevice({ tokenHash: sha('t2'), deviceId: 'a'.repeat(32), publicKey: sha('p2'), vinSalt: new Uint8Array([1, 2]), now: 20, logEntry: () => sha('r2') }); // prettier-ignore
      expect((await s.listDevices()).map((d) => d.deviceId)).toEqual([DEVICE, 'a'.repeat(32)]);
      expect((await s.devicesByVin(OTHER_VIN)).map((d) => [d.deviceId, d.owner, d.vinSalt])).toEqual([['a'.repeat(32), 'fleet-2', new Uint8Array([1, 2])]]); // prettier-ignore
      expect(await s.devicesByVin('WVWZZZ1JZXW000001')).toEqual([]);
      await s.acceptBatches([batch(0)]);
      expect(await s.counts()).toEqual({ devices: 2, vehicles: 2, batches: 1 });
      expect(await s.getDevice('0'.repeat(32))).toBeUndefined();
    });

    it('accepts batches only in seq order and advances the chain head with them', async () => {
      const s = await store();
      await enrolled(s);
      expect(await s.acceptBatches([batch(0)])).toEqual([{ ok: true, leafIndex: 1 }]);
      const [gap] = await s.acceptBatches([batch(2)]);
      expect(gap).toMatchObject({ ok: false, error: { code: 'chain' } });
      expect(await s.acceptBatches([batch(1)])).toEqual([{ ok: true, leafIndex: 2 }]);
      const device = await s.getDevice(DEVICE);
      expect(device?.nextSeq).toBe(2);
      expect(device?.headHash).toEqual(batch(1).hash);
      const stored = await s.getBatch(DEVICE, 1);
      expect(stored).toMatchObject({ deviceId: DEVICE, seq: 1, vin: VIN, leafIndex: 2, hash: batch(1).hash, bytes: batch(1).bytes });
      expect((await s.logEntry(2))?.entry).toEqual(batch(1).logEntry);
      const events = await s.eventsByVin(VIN);
      expect(events.map((e) => [e.type, e.priority, e.seq, e.start, e.end, e.data])).toEqual([['harsh-braking', 'high', 1, 10_500, 11_000, { peakMs2: -3.2 }]]);
      expect(await s.eventById(events[0]!.id)).toEqual(events[0]);
      expect(await s.eventById(events[0]!.id + 1000)).toBeUndefined();
      const samples = await s.samplesByVin(VIN, 0, 20_000);
      expect(samples.map((x) => [x.seq, x.name, x.time, x.value, x.unit])).toEqual([
        [0, 'Vehicle.Speed', 0, 42.5, 'km/h'],
        [0, 'Vehicle.OBD.DTCList', 1, 'P0301', ''],
        [1, 'Vehicle.Speed', 10_000, 42.5, 'km/h'],
        [1, 'Vehicle.OBD.DTCList', 10_001, 'P0301', ''],
      ]);
      expect((await s.samplesByVin(VIN, 5, 10_000, ['Vehicle.Speed'])).map((x) => x.time)).toEqual([10_000]);
    }); // prettier-ignore

    it('refuses a duplicate or a fork of a stored seq and keeps the stored batch as it was', async () => {
      const s = await store();
      await enrolled(s);
      await s.acceptBatches([batch(0), batch(1)]);
      const [duplicate] = await s.acceptBatches([batch(1)]);
      expect(duplicate).toMatchObject({ ok: false, error: { name: 'StoreError', code: 'chain' } });
      const fork = batch(1, {}, [{ name: 'Vehicle.Speed', unit: 'km/h', time: 10_000, value: 99 }]);
      const [forked] = await s.acceptBatches([fork]);
      expect(forked).toMatchObject({ ok: false, error: { code: 'chain' } });
      expect((await s.getBatch(DEVICE, 1))?.bytes).toEqual(batch(1).bytes);
      expect(await s.logSize()).toBe(3);
    }); // prettier-ignore

    it('commits a group in one go, each batch failing alone: leaves, heads and rows of the others commit', async () => {
      const s = await store();
      await enrolled(s);
      await s.acceptBatches([batch(0)]);
      // The event cannot be stored (JSON has no BigInt) after the leaf and batch row went in.
      const broken = batch(1, { events: [{ type: 'x', priority: 'low', start: 1, end: 2, data: { n: 1n } }] });
      const results = await s.acceptBatches([broken, batch(1), batch(5), batch(2)]);
      expect(results[0]).toMatchObject({ ok: false, error: { name: 'TypeError' } });
      expect(results[1]).toEqual({ ok: true, leafIndex: 2 });
      expect(results[2]).toMatchObject({ ok: false, error: { code: 'chain' } });
      expect(results[3]).toEqual({ ok: true, leafIndex: 3 });
      expect(await s.logSize()).toBe(4);
      expect((await s.logEntry(2))?.entry).toEqual(batch(1).logEntry);
      expect((await s.getDevice(DEVICE))?.nextSeq).toBe(3);
      expect((await s.getDevice(DEVICE))?.headHash).toEqual(batch(2).hash);
      expect((await s.eventsByVin(VIN)).map((e) => e.type)).toEqual(['harsh-braking']);
      expect((await s.samplesByVin(VIN, 0, 1e12)).length).toBe(6);
      // The tree over the committed leaves is whole: no node of a rolled-back leaf is left.
      const leaves = await Promise.all([0, 1, 2, 3].map(async (i) => (await s.logEntry(i))!.leafHash));
      expect((await s.getLogNodes([{ level: 2, index: 0 }]))[0]).toEqual(mth(leaves));
      expect(await s.acceptBatches([])).toEqual([]);
    }); // prettier-ignore

    it('refuses in a group a batch of an unknown device and a bad sample count', async () => {
      const s = await store();
      await enrolled(s);
      const results = await s.acceptBatches([batch(0, { deviceId: 'c'.repeat(32) }), batch(0, { sampleCount: -1 }), batch(0)]);
      expect(results).toMatchObject([{ ok: false, error: { code: 'not-found' } }, { ok: false, error: { code: 'bad-input' } }, { ok: true, leafIndex: 1 }]);
    }); // prettier-ignore

    it('revokes a device with its leaf in one transaction, once; refuses batches verified before it', async () => {
      const s = await store();
      await enrolled(s);
      await s.acceptBatches([batch(0)]);
      expect(await s.revokeDevice({ deviceId: DEVICE, logEntry: text('revocation') })).toEqual({ leafIndex: 2 });
      expect(await s.revokeDevice({ deviceId: DEVICE, logEntry: text('revocation 2') })).toEqual({ error: 'already-revoked' });
      expect(await s.revokeDevice({ deviceId: 'c'.repeat(32), logEntry: text('revocation 3') })).toEqual({ error: 'unknown-device' });
      expect(await s.logSize()).toBe(3);
      expect((await s.logEntry(2))?.entry).toEqual(text('revocation'));
      const [late] = await s.acceptBatches([batch(1)]);
      expect(late).toMatchObject({ ok: false, error: { name: 'StoreError', code: 'revoked' } });
      expect(await s.getBatch(DEVICE, 1)).toBeUndefined();
      expect((await s.getDevice(DEVICE))?.nextSeq).toBe(1);
      expect((await s.listDevices()).map((d) => [d.deviceId, d.status])).toEqual([[DEVICE, 'revoked']]);
    }); // prettier-ignore

    it('lets exactly one of two concurrent revocations win, with exactly one leaf', async () => {
      const s = await store();
      await enrolled(s);
      const outcomes = await Promise.all([1, 2, 3].map((i) => s.revokeDevice({ deviceId: DEVICE, logEntry: text(`revocation ${i}`) })));
      expect(outcomes.filter((o) => 'leafIndex' in o)).toEqual([{ leafIndex: 1 }]);
      expect(outcomes.filter((o) => 'error' in o)).toEqual([{ error: 'already-revoked' }, { error: 'already-revoked' }]);
      expect(await s.logSize()).toBe(2);
    }); // prettier-ignore

    it('keeps every key of a device and refuses, inside the transaction, a batch signed with a key rotated away from', async () => {
      const s = await store();
      await enrolled(s);
      const first = sha('pub');
      const second = sha('pub2').subarray(0, 33);
      const rotation = text('key-rotation');
      await s.acceptBatches([batch(0, { signedBy: first })]);
      expect(await s.rotateDeviceKey({ deviceId: DEVICE, publicKey: second, fromSeq: 0, logEntry: rotation })).toEqual({ error: 'seq-passed' });
      expect(await s.rotateDeviceKey({ deviceId: DEVICE, publicKey: second, fromSeq: 2, logEntry: rotation })).toEqual({ leafIndex: 2 });
      expect(await s.rotateDeviceKey({ deviceId: DEVICE, publicKey: first, fromSeq: 2, logEntry: rotation })).toEqual({ error: 'seq-passed' });
      expect(await s.rotateDeviceKey({ deviceId: 'c'.repeat(32), publicKey: first, fromSeq: 2, logEntry: rotation })).toEqual({ error: 'unknown-device' });
      expect(await s.logSize()).toBe(3);
      const device = await s.getDevice(DEVICE);
      expect(device?.publicKey).toEqual(second);
      expect(device?.keys).toEqual([{ publicKey: first, fromSeq: 0, leafIndex: 0 }, { publicKey: second, fromSeq: 2, leafIndex: 2 }]);
      // Seq 1 is still the first key's; seq 2, verified with it before the rotation committed, is not.
      expect(await s.acceptBatches([batch(1, { signedBy: first })])).toMatchObject([{ ok: true }]);
      const [late] = await s.acceptBatches([batch(2, { signedBy: first })]);
      expect(late).toMatchObject({ ok: false, error: { name: 'StoreError', code: 'key-rotated' } });
      expect(await s.acceptBatches([batch(2, { signedBy: second })])).toMatchObject([{ ok: true }]);
      expect(await s.revokeDevice({ deviceId: DEVICE, logEntry: text('revocation') })).toMatchObject({ leafIndex: expect.any(Number) });
      expect(await s.rotateDeviceKey({ deviceId: DEVICE, publicKey: first, fromSeq: 5, logEntry: rotation })).toEqual({ error: 'revoked' });
    }); // prettier-ignore

    it('pages through samples in (time, id) order across batches, equal times included', async () => {
      const s = await store();
      await enrolled(s);
      // Two batches whose samples interleave in time, one time shared by two signals.
      const two = (seq: number, t: number) =>
        batch(seq, {}, [
          { name: 'Vehicle.Speed', unit: 'km/h', time: t, value: seq },
          { name: 'Vehicle.Speed', unit: 'km/h', time: t + 10, value: seq + 0.1 },
          { name: 'Vehicle.Speed', unit: 'km/h', time: t + 20, value: seq + 0.2 },
          { name: 'Vehicle.OBD.EngineSpeed', unit: 'rpm', time: t + 10, value: 800 + seq },
          { name: 'Vehicle.OBD.EngineSpeed', unit: 'rpm', time: t + 30, value: 900 + seq },
        ]);
      await s.acceptBatches([two(0, 1_000), two(1, 1_015)]);
      const all = await s.samplesByVin(VIN, 0, 1e12);
      expect(all.map((x) => x.time)).toEqual([1_000, 1_010, 1_010, 1_015, 1_020, 1_025, 1_025, 1_030, 1_035, 1_045]);
      for (const limit of [1, 2, 3, 7]) {
        const seen: string[] = [];
        let after: { time: number; id: number } | undefined;
        for (;;) {
          const page = await s.samplePage({ vin: VIN, from: 0, to: 1e12, limit, ...(after ? { after } : {}) });
          expect(page.samples.length).toBeLessThanOrEqual(limit);
          seen.push(...page.samples.map((x) => `${x.name}@${x.time}=${String(x.value)}`));
          if (!page.next) break;
          after = page.next;
        }
        expect(seen).toEqual(all.map((x) => `${x.name}@${x.time}=${String(x.value)}`));
      }
      const rpm = await s.samplePage({ vin: VIN, from: 1_012, to: 1_040, names: ['Vehicle.OBD.EngineSpeed'], limit: 10 });
      expect(rpm.samples.map((x) => [x.time, x.value])).toEqual([[1_025, 801], [1_030, 900]]);
      expect(rpm.next).toBeUndefined();
    }); // prettier-ignore

    it('finds batches, their leaves and a vehicle’s span by VIN and time', async () => {
      const s = await store();
      await enrolled(s);
      expect(await s.vehicleStats(VIN)).toEqual({ batches: 0, firstTime: null, lastTime: null });
      await s.acceptBatches([batch(0), batch(1), batch(2)]);
      expect((await s.batchesByVin(VIN, 9_000, 10_500)).map((b) => b.seq)).toEqual([1]);
      expect(await s.batchLeaves(VIN, 0, 1e12)).toEqual([0, 1, 2].map((seq) => ({ deviceId: DEVICE, seq, leafIndex: seq + 1, startTime: batch(seq).startTime, endTime: batch(seq).endTime, kind: batch(seq).kind })));
      expect(await s.vehicleStats(VIN)).toEqual({ batches: 3, firstTime: 0, lastTime: 20_001 });
      expect(await s.batchesByVin(OTHER_VIN, 0, 1e12)).toEqual([]);
      expect(await s.batchRangeSize(VIN, 9_000, 10_500)).toEqual({ batches: 1, bytes: batch(1).bytes.length });
      expect(await s.batchRangeSize(VIN, 0, 1e12)).toEqual({ batches: 3, bytes: [0, 1, 2].reduce((n, seq) => n + batch(seq).bytes.length, 0) });
      expect(await s.batchRangeSize(OTHER_VIN, 0, 1e12)).toEqual({ batches: 0, bytes: 0 });
    }); // prettier-ignore

    it('reads a vehicle’s samples a run of batches at a time, batches in start order', async () => {
      const s = await store();
      await enrolled(s);
      // Five batches; the third starts first, the fourth with the fifth: start order 2, 0, 1, 3|4.
      const starts = [100, 200, 50, 300, 300];
      const stored = starts.map((t, seq) => batch(seq, {}, [
        { name: 'Vehicle.Speed', unit: 'km/h', time: t + 5, value: seq },
        { name: 'Vehicle.OBD.EngineSpeed', unit: 'rpm', time: t, value: 800 + seq },
      ]));
      await s.acceptBatches(stored);
      for (const size of [1, 2, 3, 5, 6]) {
        const chunks = [];
        let after;
        do {
          const chunk = await s.sampleChunk({ vin: VIN, batches: size, names: ['Vehicle.Speed'], ...(after ? { after } : {}) });
          chunks.push(chunk);
          after = chunk.next;
        } while (after);
        const read = chunks.flatMap((c) => c.batches);
        expect(read.map((b) => b.startTime)).toEqual([50, 100, 200, 300, 300]);
        expect(read.map((b) => b.leafIndex)).toEqual([3, 1, 2, 4, 5]);
        expect(read.map((b) => b.samples)).toEqual([2, 0, 1, 3, 4].map((seq) => [{ name: 'Vehicle.Speed', unit: 'km/h', time: starts[seq]! + 5, value: seq }]));
        expect(chunks.every((c) => c.batches.length <= size)).toBe(true);
        if (size === 2) expect(chunks.map((c) => c.next)).toEqual([{ startTime: 100, leafIndex: 1 }, { startTime: 300, leafIndex: 4 }, undefined]);
      }
      const all = await s.sampleChunk({ vin: VIN, batches: 1 });
      expect(all.batches[0]!.samples.map((x) => x.time)).toEqual([50, 55]);
      expect(await s.sampleChunk({ vin: OTHER_VIN, batches: 10 })).toEqual({ batches: [], next: undefined });
      for (const batches of [0, 1.5, Number.NaN]) await expect(s.sampleChunk({ vin: VIN, batches })).rejects.toMatchObject({ code: 'bad-input' });
    }); // prettier-ignore

    it('finds a batch that began long before a time range, whatever the spans of the others', async () => {
      const s = await store();
      await enrolled(s);
      const speed = (time: number, value: number) => ({ name: 'Vehicle.Speed', unit: 'km/h', time, value });
      // Seq 1 covers 10 s to 5,000 s (a device that was offline, then sent what it kept);
      // the others are short.
      await s.acceptBatches([batch(0, {}, [speed(0, 0)]), batch(1, {}, [speed(10_000, 1), speed(5_000_000, 1.5)])]);
      await s.acceptBatches([2, 3, 4].map((seq) => batch(seq, {}, [speed(seq * 2_000_000, seq), speed(seq * 2_000_000 + 500, seq)])));
      expect((await s.samplesByVin(VIN, 4_100_000, 4_900_000)).map((x) => x.value)).toEqual([]);
      expect((await s.samplesByVin(VIN, 4_100_000, 5_000_000)).map((x) => x.value)).toEqual([1.5]);
      expect((await s.batchesByVin(VIN, 4_999_000, 5_000_000)).map((b) => b.seq)).toEqual([1]);
      expect((await s.batchLeaves(VIN, 4_500_000, 6_000_000)).map((b) => b.seq)).toEqual([1, 3]);
      const page = await s.samplePage({ vin: VIN, from: 4_999_999, to: 1e12, limit: 10 });
      expect(page.samples.map((x) => x.time)).toEqual([5_000_000, 6_000_000, 6_000_500, 8_000_000, 8_000_500]);
      expect(await s.vehicleStats(VIN)).toEqual({ batches: 5, firstTime: 0, lastTime: 8_000_500 });
      // The latest end need not be the latest start's: seq 5 starts before seq 6 and ends after.
      await s.acceptBatches([batch(5, {}, [speed(8_100_000, 5), speed(9_500_000, 5)]), batch(6, {}, [speed(8_200_000, 6)])]);
      expect(await s.vehicleStats(VIN)).toEqual({ batches: 7, firstTime: 0, lastTime: 9_500_000 });
    }); // prettier-ignore

    it('tells which of a vehicle’s batches are new since a leaf, and where they start', async () => {
      const s = await store();
      await enrolled(s);
      expect(await s.vehicleChanges(VIN, -1)).toEqual({ batches: 0, earliestStart: null, latestStart: null, lastLeafIndex: null });
      await s.acceptBatches([batch(0), batch(1)]);
      // Leaf 0 is the registration: the batches are leaves 1 and 2.
      expect(await s.vehicleChanges(VIN, -1)).toEqual({ batches: 2, earliestStart: batch(0).startTime, latestStart: batch(1).startTime, lastLeafIndex: 2 });
      expect(await s.vehicleChanges(VIN, 1)).toEqual({ batches: 1, earliestStart: batch(1).startTime, latestStart: batch(1).startTime, lastLeafIndex: 2 });
      expect(await s.vehicleChanges(VIN, 2)).toEqual({ batches: 0, earliestStart: null, latestStart: null, lastLeafIndex: null });
      await s.acceptBatches([batch(2)]);
      expect(await s.vehicleChanges(VIN, 2)).toEqual({ batches: 1, earliestStart: batch(2).startTime, latestStart: batch(2).startTime, lastLeafIndex: 3 });
      expect((await s.vehicleChanges(OTHER_VIN, -1)).batches).toBe(0);
    }); // prettier-ignore

    it('stores the node hashes of every complete subtree, matching RFC 9162 roots', async () => {
      const s = await store();
      const leaves: Uint8Array[] = [];
      for (let i = 0; i < 37; i++) {
        const entry = text(`leaf ${i}`);
        leaves.push(leafHash(entry));
        expect(await s.appendLogEntry(entry, leafHash(entry))).toBe(i);
      }
      // (5, 0) covers leaves 0..31; (2, 8) covers 32..35; (0, 36) is the last leaf.
      const [n5, n2, n0] = await s.getLogNodes([{ level: 5, index: 0 }, { level: 2, index: 8 }, { level: 0, index: 36 }]);
      expect(n5).toEqual(mth(leaves.slice(0, 32)));
      expect(n2).toEqual(mth(leaves.slice(32, 36)));
      expect(n0).toEqual(leaves[36]);
      await expect(s.getLogNodes([{ level: 6, index: 0 }])).rejects.toMatchObject({ code: 'not-found' });
      expect(await s.logEntry(37)).toBeUndefined();
    }); // prettier-ignore

    it('numbers leaves without gaps or repeats when appends, groups and revocations run at once', async () => {
      const s = await store();
      await enrolled(s);
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 12; i++) writes.push(s.appendLogEntry(text(`leaf ${i}`), leafHash(text(`leaf ${i}`))));
      writes.push(s.acceptBatches([batch(0), batch(1)]), s.acceptBatches([batch(2)]));
      await Promise.all(writes);
      const size = await s.logSize();
      expect(size).toBe(1 + 12 + (await s.getDevice(DEVICE))!.nextSeq);
      const leaves = await Promise.all(Array.from({ length: size }, async (_, i) => (await s.logEntry(i))!.leafHash));
      expect((await s.getLogNodes([{ level: 3, index: 0 }]))[0]).toEqual(mth(leaves.slice(0, 8)));
    }); // prettier-ignore

    it('accepts a nonce once per device (replay protection) and forgets expired ones', async () => {
      const s = await store();
      expect(await s.useNonce(DEVICE, sha('n1'), 100, 0)).toBe(true);
      expect(await s.useNonce(DEVICE, sha('n1'), 100, 50)).toBe(false);
      expect(await s.useNonce('e'.repeat(32), sha('n1'), 100, 50)).toBe(true);
      expect(await s.useNonce(DEVICE, sha('n1'), 300, 200)).toBe(true);
    });

    it('holds batches behind a gap and takes a held one out when it is accepted', async () => {
      const s = await store();
      await enrolled(s);
      const held = batch(1);
      await s.holdBatch({ deviceId: DEVICE, seq: 1, hash: held.hash, bytes: held.bytes, receivedAt: 1 });
      await s.holdBatch({ deviceId: DEVICE, seq: 3, hash: sha('h3'), bytes: sha('b3'), receivedAt: 1 });
      // Held again (a resend): replaced, not doubled.
      await s.holdBatch({ deviceId: DEVICE, seq: 3, hash: sha('h3'), bytes: sha('b3 again'), receivedAt: 2 });
      expect((await s.heldBatches(DEVICE)).map((h) => [h.seq, h.receivedAt])).toEqual([[1, 1], [3, 2]]);
      expect((await s.heldBatches(DEVICE))[0]).toEqual({ deviceId: DEVICE, seq: 1, hash: held.hash, bytes: held.bytes, receivedAt: 1 });
      await s.acceptBatches([batch(0), batch(1, { wasHeld: true })]);
      expect((await s.heldBatches(DEVICE)).map((h) => h.seq)).toEqual([3]);
      await s.removeHeld(DEVICE, 3);
      expect(await s.heldBatches(DEVICE)).toEqual([]);
    }); // prettier-ignore

    it('keeps declared drops once, skips the chain over one, and refuses skipping anything else', async () => {
      const s = await store();
      await enrolled(s);
      const drop = (seq: number) => ({ seq, hash: sha(`dropped ${seq}`), sampleCount: 10, firstTime: seq, lastTime: seq + 9 });
      await s.recordDeclaredDrops(DEVICE, 5, [drop(0), drop(2)]);
      await s.recordDeclaredDrops(DEVICE, 6, [{ ...drop(2), sampleCount: 99 }]);
      expect(await s.declaredDrop(DEVICE, 2)).toEqual(drop(2));
      expect(await s.declaredDrop(DEVICE, 1)).toBeUndefined();
      expect(await s.declaredDropsFrom(DEVICE, 1)).toEqual([drop(2)]);
      await s.skipDeclaredDrop(DEVICE, 0);
      expect(await s.getDevice(DEVICE)).toMatchObject({ nextSeq: 1, headHash: sha('dropped 0') });
      await expect(s.skipDeclaredDrop(DEVICE, 2)).rejects.toMatchObject({ code: 'chain' });
      await expect(s.skipDeclaredDrop(DEVICE, 3)).rejects.toMatchObject({ code: 'chain' });
      expect((await s.getDevice(DEVICE))?.nextSeq).toBe(1);
      // Drops a batch declares are stored with it.
      await s.acceptBatches([batch(1, { declaredDrops: [drop(7)] })]);
      expect(await s.declaredDrop(DEVICE, 7)).toEqual(drop(7));
    }); // prettier-ignore

    it('keeps quarantined batches bytes and all, and counts rejections by code', async () => {
      const s = await store();
      await s.quarantine({ deviceId: DEVICE, seq: 3, hash: sha('p'), bytes: sha('bad-prev'), reason: 'bad-prev', receivedAt: 3 });
      await s.quarantine({ deviceId: DEVICE, seq: 0, hash: sha('f'), bytes: sha('fork'), reason: 'fork', receivedAt: 2 });
      await s.quarantine({ hash: sha('x'), bytes: sha('anonymous'), reason: 'malformed', receivedAt: 4 });
      expect(await s.quarantined(DEVICE)).toEqual([
        { deviceId: DEVICE, seq: 0, hash: sha('f'), bytes: sha('fork'), reason: 'fork', receivedAt: 2 },
        { deviceId: DEVICE, seq: 3, hash: sha('p'), bytes: sha('bad-prev'), reason: 'bad-prev', receivedAt: 3 },
      ]);
      expect(await s.rejectionCounts()).toEqual({});
      await s.recordRejection({ at: 1, code: 'bad-signature', detail: 'x' });
      await s.recordRejection({ at: 2, deviceId: DEVICE, code: 'bad-signature', detail: 'y' });
      await s.recordRejection({ at: 3, code: 'too-large', detail: 'z' });
      expect(await s.rejectionCounts()).toEqual({ 'bad-signature': 2, 'too-large': 1 });
    }); // prettier-ignore

    it('keeps checkpoints once per tree size and finds them by size', async () => {
      const s = await store();
      expect(await s.latestCheckpoint()).toBeUndefined();
      await s.saveCheckpoint({ treeSize: 1, root: sha('r1'), note: 'n1', createdAt: 1 });
      await s.saveCheckpoint({ treeSize: 4, root: sha('r4'), note: 'n4', createdAt: 2 });
      // Saved again (a restart signs the same size): the first stays.
      await s.saveCheckpoint({ treeSize: 4, root: sha('other'), note: 'other', createdAt: 3 });
      expect(await s.latestCheckpoint()).toEqual({ treeSize: 4, root: sha('r4'), note: 'n4', createdAt: 2 });
      expect(await s.checkpointAt(1)).toEqual({ treeSize: 1, root: sha('r1'), note: 'n1', createdAt: 1 });
      expect(await s.checkpointAt(2)).toBeUndefined();
      expect((await s.firstCheckpointAtLeast(2))?.treeSize).toBe(4);
      expect(await s.firstCheckpointAtLeast(5)).toBeUndefined();
    }); // prettier-ignore
  });

  describe(`AccessStore conformance: ${backend}`, () => {
    const store = storesClosedAfterEach(open);
    const newUser = (username: string, kind: 'registered' | 'business') => ({ username, kind, displayName: username.toUpperCase(), passwordHash: `hash of ${username}`, now: 5 }); // prettier-ignore

    it('creates users once, case-blind, and finds and lists them', async () => {
      const { access } = await store();
      const olivia = await access.createUser(newUser('Olivia', 'registered'));
      expect(olivia).toEqual({ id: expect.any(Number), username: 'Olivia', kind: 'registered', displayName: 'OLIVIA', createdAt: 5 });
      expect(await access.createUser(newUser('olivia', 'business'))).toBe('exists');
      const claims = await access.createUser(newUser('claims', 'business'));
      expect(await access.userByName('OLIVIA')).toEqual({ ...(olivia as object), passwordHash: 'hash of Olivia' });
      expect(await access.userByName('nobody')).toBeUndefined();
      expect(await access.userById((claims as { id: number }).id)).toEqual(claims);
      expect((await access.listUsers()).map((u) => u.username)).toEqual(['claims', 'Olivia']);
      expect((await access.listUsers('business')).map((u) => u.username)).toEqual(['claims']);
    }); // prettier-ignore

    it('keeps sessions until they expire or end, and API tokens until they expire or are revoked', async () => {
      const { access } = await store();
      const u = (await access.createUser(newUser('olivia', 'registered'))) as { id: number };
      await access.addSession(sha('s1'), u.id, 10, 100);
      expect((await access.sessionUser(sha('s1'), 50))?.id).toBe(u.id);
      expect(await access.sessionUser(sha('s1'), 100)).toBeUndefined();
      await access.addSession(sha('s2'), u.id, 20, 200);
      await access.deleteSession(sha('s2'));
      expect(await access.sessionUser(sha('s2'), 30)).toBeUndefined();
      const id = await access.addApiToken({ tokenHash: sha('t1'), userId: u.id, name: 'claims system', now: 10, expiresAt: 1_000 });
      expect(await access.apiTokenUser(sha('t1'), 40)).toEqual({ user: expect.objectContaining({ id: u.id }), tokenId: id });
      expect(await access.apiTokens(u.id)).toEqual([{ id, name: 'claims system', createdAt: 10, expiresAt: 1_000, revokedAt: null, lastUsedAt: 40 }]);
      expect(await access.apiTokenUser(sha('t1'), 1_000)).toBeUndefined();
      expect(await access.revokeApiToken(u.id + 1, id, 50)).toBe(false);
      expect(await access.revokeApiToken(u.id, id, 50)).toBe(true);
      expect(await access.revokeApiToken(u.id, id, 60)).toBe(false);
      expect(await access.apiTokenUser(sha('t1'), 70)).toBeUndefined();
      expect((await access.apiTokens(u.id))[0]?.revokedAt).toBe(50);
    }); // prettier-ignore

    it('writes grants, their revocation and accesses with their log leaves, atomically', async () => {
      const s = await store();
      const { access } = s;
      await enrolConformanceDevice(s, 'Olivia');
      const owner = (await access.createUser(newUser('olivia', 'registered'))) as { id: number };
      const business = (await access.createUser(newUser('claims', 'business'))) as { id: number };
      expect(await access.ownedVins('OLIVIA')).toEqual([VIN]);
      expect(await access.isOwner('olivia', VIN)).toBe(true);
      expect(await access.isOwner('claims', VIN)).toBe(false);
      const grant = { ownerId: owner.id, businessId: business.id, vin: VIN, kinds: ['events', 'trips'] as const, from: 0, to: 1_000, expiresAt: 9_000, now: 100 };
      const record = (kind: string) => ({ vin: VIN, at: 100, record: text(`${kind} record`), recordHash: sha(`${kind} record`), logEntry: text(`${kind} entry`) });
      const granted = await access.appendAccessRecord({ effect: { kind: 'grant', grant }, userId: owner.id, ...record('grant') });
      expect(granted).toEqual({ leafIndex: 1, grantId: expect.any(Number) });
      const grantId = (granted as { grantId: number }).grantId;
      expect((await s.logEntry(1))?.entry).toEqual(text('grant entry'));
      const row = await access.grantById(grantId);
      expect(row).toEqual({ id: grantId, ownerId: owner.id, owner: 'olivia', businessId: business.id, business: 'claims', vin: VIN, kinds: ['events', 'trips'], from: 0, to: 1_000, expiresAt: 9_000, createdAt: 100, revokedAt: null, leafIndex: 1, recordHash: sha('grant record') });
      expect(await access.grantsOfOwner(owner.id)).toEqual([row]);
      expect(await access.grantsOfBusiness(business.id)).toEqual([row]);
      expect(await access.grantsOfBusiness(owner.id)).toEqual([]);
      expect(await access.appendAccessRecord({ effect: { kind: 'access', grantId }, userId: business.id, ...record('access') })).toEqual({ leafIndex: 2, grantId });
      expect(await access.appendAccessRecord({ effect: { kind: 'grant-revoked', grantId, now: 200 }, userId: owner.id, ...record('revoked') })).toEqual({ leafIndex: 3, grantId });
      // Revoked again: refused in the transaction, no leaf.
      expect(await access.appendAccessRecord({ effect: { kind: 'grant-revoked', grantId, now: 300 }, userId: owner.id, ...record('again') })).toBe('already-revoked');
      expect(await s.logSize()).toBe(4);
      expect((await access.grantById(grantId))?.revokedAt).toBe(200);
      expect((await access.accessRecords(VIN)).map((r) => [r.kind, r.username, r.grantId, r.leafIndex, r.record, r.recordHash])).toEqual([
        ['grant', 'olivia', grantId, 1, text('grant record'), sha('grant record')],
        ['access', 'claims', grantId, 2, text('access record'), sha('access record')],
        ['grant-revoked', 'olivia', grantId, 3, text('revoked record'), sha('revoked record')],
      ]);
      // A record that cannot be stored (no such user) takes its leaf and grant with it.
      await expect(access.appendAccessRecord({ effect: { kind: 'grant', grant }, userId: 999_999, ...record('orphan') })).rejects.toThrow();
      expect(await s.logSize()).toBe(4);
      expect(await access.grantsOfOwner(owner.id)).toHaveLength(1);
    }); // prettier-ignore
  });
}
