import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  batchHash,
  buildBatchPayload,
  encodeLogEntry,
  generateDeviceKey,
  sha256,
  signBatch,
  ZERO_HASH,
  type DeviceKey,
  type DroppedBatch,
} from '@enginechain/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectGarbage } from './collect-garbage.test-support.js';
import { SqliteIngestStore } from '../storage/sqlite-store.js';
import {
  BatchIngestor,
  type AcceptedBatchInfo,
  type BatchIngestorOptions,
  type IngestOutcome,
} from './batch-ingestor.js';
import { VerifierPool } from './verifier-pool.js';

const VIN = '1HGCM82633A004352';
const T0 = Date.UTC(2026, 10, 25, 8, 0, 0);

let pool: VerifierPool;
beforeAll(() => {
  pool = new VerifierPool(2);
});
afterAll(() => pool.close());

async function node(groupCommit?: BatchIngestorOptions['groupCommit']) {
  const store = new SqliteIngestStore(
    join(mkdtempSync(join(tmpdir(), 'enginechain-ingest-')), 'node.db'),
  );
  const accepted: AcceptedBatchInfo[] = [];
  const rejections: string[] = [];
  const resends: number[][] = [];
  const ingestor = new BatchIngestor({
    store,
    pool,
    now: () => T0 + 60_000,
    onAccepted: (i) => accepted.push(i),
    onRejection: (code) => rejections.push(code),
    onResendNeeded: (_d, seqs) => resends.push([...seqs]),
    resendIntervalMs: 0,
    ...(groupCommit ? { groupCommit } : {}),
  });
  return { store, ingestor, accepted, rejections, resends };
}

async function enrol(store: SqliteIngestStore, key: DeviceKey, vin = VIN) {
  const tokenHash = sha256(new TextEncoder().encode(key.deviceId));
  await store.addEnrolmentToken({ tokenHash, vin, owner: undefined, createdAt: 0, expiresAt: T0 * 2 });
  await store.registerDevice({ tokenHash, deviceId: key.deviceId, publicKey: key.publicKey, vinSalt: new Uint8Array(16), now: T0, logEntry: () => new Uint8Array([1]) });
} // prettier-ignore

/** A chain of signed batches for `key`, each with a few speed samples. */
function chain(
  key: DeviceKey,
  n: number,
  opts: { vin?: string; dropped?: Record<number, DroppedBatch[]> } = {},
) {
  const out: Uint8Array[] = [];
  let prev = ZERO_HASH;
  for (let seq = 0; seq < n; seq++) {
    const bytes = signBatch(
      buildBatchPayload({
        deviceId: key.deviceId,
        vin: opts.vin ?? VIN,
        seq,
        prev,
        clock: { source: 'gnss', jumps: [] },
        samples: [0, 100, 200].map((dt) => ({ name: 'Vehicle.Speed', unit: 'km/h', time: T0 + seq * 1_000 + dt, value: seq + dt / 1000 })),
        events: seq === 1 ? [{ type: 'harsh-braking', priority: 'high', start: T0 + 1_050, end: T0 + 1_150, data: { peakMs2: -3.1 } }] : [],
        dropped: opts.dropped?.[seq] ?? [],
      }),
      key,
    ); // prettier-ignore
    out.push(bytes);
    prev = batchHash(bytes);
  }
  return out;
}

describe('BatchIngestor', () => {
  it('accepts a chain in order, logs each batch and stores samples and events', async () => {
    const { store, ingestor, accepted } = await node();
    const key = generateDeviceKey();
    await enrol(store, key);
    for (const b of chain(key, 3))
      expect((await ingestor.ingest(key.deviceId, b)).status).toBe('accepted');
    expect(accepted.map((a) => [a.seq, a.leafIndex])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(await store.logSize()).toBe(4);
    expect((await store.samplesByVin(VIN, 0, T0 * 2)).length).toBe(9);
    expect((await store.eventsByVin(VIN)).map((e) => e.type)).toEqual(['harsh-braking']);
    await store.close();
  });

  it('acknowledges a duplicate again and quarantines a fork', async () => {
    const { store, ingestor, rejections } = await node();
    const key = generateDeviceKey();
    await enrol(store, key);
    const [b0] = chain(key, 1);
    await ingestor.ingest(key.deviceId, b0!);
    expect(await ingestor.ingest(key.deviceId, b0!)).toMatchObject({
      status: 'duplicate',
      seq: 0,
      leafIndex: 1,
    });
    // Same seq, different content: a second history for the same device.
    const [fork] = chain(key, 1, {
      dropped: { 0: [{ seq: 0, hash: new Uint8Array(32), samples: 1, start: T0, end: T0 }] },
    });
    expect(await ingestor.ingest(key.deviceId, fork!)).toMatchObject({
      status: 'quarantined',
      code: 'fork',
    });
    expect(rejections).toEqual(['fork']);
    expect(await store.logSize()).toBe(2);
    await store.close();
  });

  it('holds batches after a gap, asks for the missing seqs, and logs all once the gap fills', async () => {
    const { store, ingestor, resends, accepted } = await node();
    const key = generateDeviceKey();
    await enrol(store, key);
    const b = chain(key, 4);
    await ingestor.ingest(key.deviceId, b[0]!);
    expect(await ingestor.ingest(key.deviceId, b[3]!)).toMatchObject({
      status: 'held',
      missing: [1, 2],
    });
    expect(await ingestor.ingest(key.deviceId, b[2]!)).toMatchObject({
      status: 'held',
      missing: [1],
    });
    expect(resends).toEqual([[1, 2], [1]]);
    expect((await ingestor.ingest(key.deviceId, b[1]!)).status).toBe('accepted');
    expect(accepted.map((a) => a.seq)).toEqual([0, 1, 2, 3]);
    expect((await store.getDevice(key.deviceId))?.nextSeq).toBe(4);
    await store.close();
  });

  it('continues the chain through batches the device declared dropped', async () => {
    const { store, ingestor, accepted } = await node();
    const key = generateDeviceKey();
    await enrol(store, key);
    const full = chain(key, 3);
    // seq 1 was evicted on the device; seq 2 (re-signed) declares it.
    const dropped: DroppedBatch = {
      seq: 1,
      hash: batchHash(full[1]!),
      samples: 3,
      start: T0 + 1_000,
      end: T0 + 1_200,
    };
    const withDrop = chain(key, 3, { dropped: { 2: [dropped] } });
    await ingestor.ingest(key.deviceId, withDrop[0]!);
    // withDrop[2].prev is the hash of withDrop[1], identical to full[1] (same content).
    expect(await ingestor.ingest(key.deviceId, withDrop[2]!)).toMatchObject({
      status: 'accepted',
      seq: 2,
    });
    expect(accepted.map((a) => a.seq)).toEqual([0, 2]);
    expect((await store.declaredDrop(key.deviceId, 1))?.sampleCount).toBe(3);
    await store.close();
  });

  it('rejects hostile input with a typed reason and keeps what was accepted', async () => {
    const { store, ingestor, rejections } = await node();
    const key = generateDeviceKey();
    const other = generateDeviceKey();
    await enrol(store, key);
    await enrol(store, other, '1M8GDM9AXKP042788');
    const good = chain(key, 2);
    await ingestor.ingest(key.deviceId, good[0]!);

    const tampered = good[1]!.slice();
    tampered[tampered.length - 70]! ^= 0x01;
    const cases: [string, Uint8Array, string][] = [
      [key.deviceId, tampered, 'bad-signature'],
      [key.deviceId, new Uint8Array(300 * 1024), 'too-large'],
      [key.deviceId, new TextEncoder().encode('{"speed": 1}'), 'bad-cbor'],
      [generateDeviceKey().deviceId, good[1]!, 'unknown-device'],
      [other.deviceId, good[1]!, 'topic-mismatch'],
      [other.deviceId, chain(other, 1)[0]!, 'vin-mismatch'],
    ];
    for (const [topic, bytes, code] of cases) {
      expect(await ingestor.ingest(topic, bytes), code).toMatchObject({ status: 'rejected', code });
    }
    expect(rejections).toEqual(cases.map((c) => c[2]));
    expect(await store.rejectionCounts()).toMatchObject({
      'bad-signature': 1,
      'too-large': 1,
      'vin-mismatch': 1,
    });
    expect((await ingestor.ingest(key.deviceId, good[1]!)).status).toBe('accepted');
    expect(await store.logSize()).toBe(4);
    await store.close();
  });

  it('flags a batch that starts far in the future but keeps it', async () => {
    const { store, ingestor, rejections } = await node();
    const key = generateDeviceKey();
    await enrol(store, key);
    const bytes = signBatch(
      buildBatchPayload({ deviceId: key.deviceId, vin: VIN, seq: 0, clock: { source: 'rtc', jumps: [] }, samples: [{ name: 'Vehicle.Speed', unit: 'km/h', time: T0 + 86_400_000, value: 1 }] }),
      key,
    ); // prettier-ignore
    expect(await ingestor.ingest(key.deviceId, bytes)).toMatchObject({
      status: 'accepted',
      flags: ['future-timestamp'],
    });
    expect(rejections).toEqual(['future-timestamp']);
    await store.close();
  });

  it('refuses a batch verified before its device was revoked when the revocation commits first', async () => {
    // Groups close only on flush(): the batch is verified and sequenced, then waits.
    const { store, ingestor, accepted, rejections } = await node({ idleMs: 60_000, maxDelayMs: 60_000 });
    const key = generateDeviceKey();
    await enrol(store, key);
    const [b0, b1] = chain(key, 2);
    const first = ingestor.ingest(key.deviceId, b0!);
    while (ingestor.waitingForCommit === 0) await new Promise((r) => setTimeout(r, 2));
    const revocation = encodeLogEntry({ type: 'revocation', deviceId: key.deviceId, at: 1, reason: 'stolen' });
    expect(await store.revokeDevice({ deviceId: key.deviceId, logEntry: revocation })).toEqual({ leafIndex: 1 });
    await ingestor.flush();
    expect(await first).toMatchObject({ status: 'rejected', code: 'revoked-device' });
    expect(accepted).toEqual([]);
    expect(await store.getBatch(key.deviceId, 0)).toBeUndefined();
    expect(await store.logSize()).toBe(2);
    // From then on the device is refused before its batches are verified.
    expect(await ingestor.ingest(key.deviceId, b1!)).toMatchObject({ status: 'rejected', code: 'revoked-device' });
    expect(rejections).toEqual(['revoked-device', 'revoked-device']);
    expect(await store.rejectionCounts()).toEqual({ 'revoked-device': 2 });
    await store.close();
  }); // prettier-ignore

  it('stores a burst from many devices in a few groups, each batch once and in order', async () => {
    const commits: number[] = [];
    const store = new SqliteIngestStore(join(mkdtempSync(join(tmpdir(), 'enginechain-ingest-')), 'node.db'));
    const ingestor = new BatchIngestor({ store, pool, now: () => T0 + 60_000, onGroupCommit: (n) => commits.push(n) });
    const keys = [generateDeviceKey(), generateDeviceKey(), generateDeviceKey()];
    for (const k of keys) await enrol(store, k);
    const results = await Promise.all(keys.flatMap((k) => chain(k, 20).map((b) => ingestor.ingest(k.deviceId, b))));
    expect(results.every((r) => r.status === 'accepted')).toBe(true);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(60);
    expect(commits.length).toBeLessThan(60);
    for (const k of keys) {
      expect((await store.getDevice(k.deviceId))?.nextSeq).toBe(20);
      const samples = await store.samplesByVin(VIN, 0, T0 * 2);
      expect(samples.filter((x) => x.deviceId === k.deviceId).map((x) => x.seq)).toEqual(
        Array.from({ length: 20 }, (_, seq) => [seq, seq, seq]).flat(),
      );
    }
    expect(await store.logSize()).toBe(63);
    await store.close();
  }); // prettier-ignore

  it('lets go of each stored batch while a later one of its device still waits for a verifier', async () => {
    // An outbox flush after an outage arrives as a burst: what the node has stored must not
    // stay in memory until the device's whole burst is through.
    const store = new SqliteIngestStore(join(mkdtempSync(join(tmpdir(), 'enginechain-ingest-')), 'node.db'));
    const key = generateDeviceKey();
    await enrol(store, key);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let heldBack: Uint8Array | undefined;
    // The real pool; only the answer for one batch is held back until the test releases it.
    const gated: BatchIngestorOptions['pool'] = {
      verify: (bytes, publicKey, receivedAt, deviceId) =>
        bytes === heldBack
          ? gate.then(() => pool.verify(bytes, publicKey, receivedAt, deviceId))
          : pool.verify(bytes, publicKey, receivedAt, deviceId),
    };
    const ingestor = new BatchIngestor({ store, pool: gated, now: () => T0 + 60_000 });
    const stored: WeakRef<Uint8Array>[] = [];
    const outcomes: Promise<IngestOutcome>[] = [];
    (() => {
      const batches = chain(key, 30);
      heldBack = batches[20];
      batches.forEach((b, seq) => {
        if (seq < 20) stored.push(new WeakRef(b));
        outcomes.push(ingestor.ingest(key.deviceId, b));
      });
    })();
    expect((await Promise.all(outcomes.slice(0, 20))).map((o) => o.status)).toEqual(Array(20).fill('accepted'));
    await new Promise((r) => setTimeout(r, 0));
    collectGarbage();
    expect(stored.filter((w) => w.deref() !== undefined)).toHaveLength(0);
    release();
    expect((await Promise.all(outcomes.slice(20))).map((o) => o.status)).toEqual(Array(10).fill('accepted'));
    await store.close();
  }); // prettier-ignore
});
