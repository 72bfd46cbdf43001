import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
import type { AcceptedBatch } from './ingest-store.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteIngestStore, StoreError } from './sqlite-store.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const KEY = generateDeviceKey();
const DEVICE = KEY.deviceId;
const VIN = '1HGCM82633A004352';

function tempDb() {
  return join(mkdtempSync(join(tmpdir(), 'enginechain-store-')), 'node.db');
}

/** RFC 9162 MTH straight from the definition, to check the stored node hashes against. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

type SampleInput = { name: string; unit: string; time: number; value: number | string | boolean };

/** A real signed batch of DEVICE, as the pipeline hands it to the store (samples in its bytes). */
function batch(
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

describe('SqliteIngestStore', () => {
  const open: SqliteIngestStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const store = (path = tempDb()) => {
    const s = new SqliteIngestStore(path);
    open.push(s);
    return s;
  };

  async function enrolled(s: SqliteIngestStore) {
    const tokenHash = sha('token');
    await s.addEnrolmentToken({
      tokenHash,
      vin: VIN,
      owner: 'fleet-1',
      createdAt: 0,
      expiresAt: 1_000,
    });
    const r = await s.registerDevice({
      tokenHash, deviceId: DEVICE, publicKey: sha('pub'), vinSalt: new Uint8Array(16), now: 10,
      logEntry: (vin) => new TextEncoder().encode(`registration ${vin}`),
    }); // prettier-ignore
    return { r, tokenHash };
  }

  it('migrates a new file to the latest schema and reopens it unchanged', async () => {
    const path = tempDb();
    const s = store(path);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    await s.close();
    open.pop();
    expect(store(path).schemaVersion).toBe(MIGRATIONS.length);
  });

  it('refuses a file from a newer node', () => {
    const path = tempDb();
    const db = new Database(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new SqliteIngestStore(path)).toThrow(StoreError);
  });

  it('uses an enrolment token once, logs the registration, refuses reuse and expiry', async () => {
    const s = store();
    const { r, tokenHash } = await enrolled(s);
    expect(r).toMatchObject({ leafIndex: 0, device: { deviceId: DEVICE, vin: VIN, owner: 'fleet-1', status: 'active', nextSeq: 0 } });
    const again = await s.registerDevice({ tokenHash, deviceId: 'e'.repeat(32), publicKey: sha('x'), now: 11, vinSalt: new Uint8Array(16), logEntry: () => sha('y') });
    expect(again).toEqual({ error: 'token-used' });
    await s.addEnrolmentToken({ tokenHash: sha('old'), vin: VIN, owner: undefined, createdAt: 0, expiresAt: 5 });
    expect(await s.registerDevice({ tokenHash: sha('old'), deviceId: 'f'.repeat(32), publicKey: sha('x'), now: 6, vinSalt: new Uint8Array(16), logEntry: () => sha('y') })).toEqual({ error: 'token-expired' });
    expect(await s.registerDevice({ tokenHash: sha('never'), deviceId: 'f'.repeat(32), publicKey: sha('x'), now: 6, vinSalt: new Uint8Array(16), logEntry: () => sha('y') })).toEqual({ error: 'unknown-token' });
    expect(await s.logSize()).toBe(1);
  }); // prettier-ignore

  it('accepts batches only in seq order and advances the chain head with them', async () => {
    const s = store();
    await enrolled(s);
    expect(await s.acceptBatches([batch(0)])).toEqual([{ ok: true, leafIndex: 1 }]);
    const [gap] = await s.acceptBatches([batch(2)]);
    expect(gap).toMatchObject({ ok: false, error: { code: 'chain' } });
    expect(await s.acceptBatches([batch(1)])).toEqual([{ ok: true, leafIndex: 2 }]);
    const device = await s.getDevice(DEVICE);
    expect(device?.nextSeq).toBe(2);
    expect(device?.headHash).toEqual(batch(1).hash);
    expect((await s.getBatch(DEVICE, 1))?.bytes).toEqual(batch(1).bytes);
    expect((await s.eventsByVin(VIN)).map((e) => e.type)).toEqual(['harsh-braking']);
    const samples = await s.samplesByVin(VIN, 0, 20_000);
    expect(samples.map((x) => [x.seq, x.name, x.time, x.value, x.unit])).toEqual([
      [0, 'Vehicle.Speed', 0, 42.5, 'km/h'],
      [0, 'Vehicle.OBD.DTCList', 1, 'P0301', ''],
      [1, 'Vehicle.Speed', 10_000, 42.5, 'km/h'],
      [1, 'Vehicle.OBD.DTCList', 10_001, 'P0301', ''],
    ]);
    expect((await s.samplesByVin(VIN, 5, 10_000, ['Vehicle.Speed'])).map((x) => x.time)).toEqual([10_000]);
  }); // prettier-ignore

  it('rolls back a batch that fails inside its group alone and commits the rest', async () => {
    const s = store();
    await enrolled(s);
    await s.acceptBatches([batch(0)]);
    // The event cannot be stored (JSON has no BigInt) after the leaf and batch row went in.
    const broken = batch(1, { events: [{ type: 'x', priority: 'low', start: 1, end: 2, data: { n: 1n } }] });
    const results = await s.acceptBatches([broken, batch(1)]);
    expect(results[0]).toMatchObject({ ok: false, error: { name: 'TypeError' } });
    expect(results[1]).toEqual({ ok: true, leafIndex: 2 });
    expect(await s.logSize()).toBe(3);
    expect((await s.logEntry(2))?.entry).toEqual(batch(1).logEntry);
    expect((await s.getDevice(DEVICE))?.nextSeq).toBe(2);
    expect((await s.eventsByVin(VIN)).map((e) => e.type)).toEqual(['harsh-braking']);
    expect((await s.samplesByVin(VIN, 0, 1e12)).length).toBe(4);
  }); // prettier-ignore

  it('refuses, inside the transaction, a batch whose device was revoked after it was verified', async () => {
    const s = store();
    await enrolled(s);
    await s.acceptBatches([batch(0)]);
    expect(s.revokeDeviceStatusSync(DEVICE)).toBe('revoked');
    const [late] = await s.acceptBatches([batch(1)]);
    expect(late).toMatchObject({ ok: false, error: { name: 'StoreError', code: 'revoked' } });
    expect(await s.getBatch(DEVICE, 1)).toBeUndefined();
    expect(await s.logSize()).toBe(2);
    expect((await s.getDevice(DEVICE))?.nextSeq).toBe(1);
    expect((await s.listDevices()).map((d) => [d.deviceId, d.status])).toEqual([[DEVICE, 'revoked']]);
  }); // prettier-ignore

  it('keeps every key of a device and refuses, inside the transaction, a batch signed with a key rotated away from', async () => {
    const s = store();
    await enrolled(s);
    const first = sha('pub');
    const second = sha('pub2').subarray(0, 33);
    await s.acceptBatches([batch(0, { signedBy: first })]);
    expect(s.rotateDeviceKeySync({ deviceId: DEVICE, publicKey: second, fromSeq: 0, leafIndex: 9 })).toBe('seq-passed');
    expect(s.rotateDeviceKeySync({ deviceId: DEVICE, publicKey: second, fromSeq: 2, leafIndex: 9 })).toBe('rotated');
    expect(s.rotateDeviceKeySync({ deviceId: DEVICE, publicKey: first, fromSeq: 2, leafIndex: 10 })).toBe('seq-passed');
    const device = await s.getDevice(DEVICE);
    expect(device?.publicKey).toEqual(second);
    expect(device?.keys).toEqual([{ publicKey: first, fromSeq: 0, leafIndex: 0 }, { publicKey: second, fromSeq: 2, leafIndex: 9 }]);
    // Seq 1 is still the first key's; seq 2, verified with it before the rotation committed, is not.
    expect(await s.acceptBatches([batch(1, { signedBy: first })])).toMatchObject([{ ok: true }]);
    const [late] = await s.acceptBatches([batch(2, { signedBy: first })]);
    expect(late).toMatchObject({ ok: false, error: { name: 'StoreError', code: 'key-rotated' } });
    expect(await s.acceptBatches([batch(2, { signedBy: second })])).toMatchObject([{ ok: true }]);
    expect(s.revokeDeviceStatusSync(DEVICE)).toBe('revoked');
    expect(s.rotateDeviceKeySync({ deviceId: DEVICE, publicKey: first, fromSeq: 5, leafIndex: 11 })).toBe('revoked');
  }); // prettier-ignore

  it('pages through samples in (time, id) order across batches, equal times included', async () => {
    const s = store();
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

  it('migrates schema 2: sample rows go, samples are read from the batch bytes', async () => {
    const path = tempDb();
    const db = new Database(path);
    db.exec(MIGRATIONS[0] as string);
    db.exec(MIGRATIONS[1] as string);
    db.pragma('user_version = 2');
    const b = batch(0, {}, [
      { name: 'Vehicle.Speed', unit: 'km/h', time: 100, value: 50.5 },
      { name: 'Vehicle.OBD.DTCList', unit: '', time: 150, value: 'P0420' },
      { name: 'Vehicle.Speed', unit: 'km/h', time: 200, value: 51 },
      { name: 'Vehicle.OBD.MIL', unit: '', time: 300, value: true },
    ]);
    db.prepare(`INSERT INTO devices (device_id, public_key, vin, vin_salt, status, registered_at, next_seq, head_hash)
                VALUES (?, x'00', ?, x'00', 'active', 0, 1, x'00')`).run(DEVICE, VIN);
    db.prepare(`INSERT INTO batches (device_id, seq, hash, bytes, vin, kind, start_time, end_time, sample_count, received_at, leaf_index)
                VALUES (?, 0, ?, ?, ?, 'routine', 100, 300, 4, 1, 0)`).run(DEVICE, Buffer.from(b.hash), Buffer.from(b.bytes), VIN);
    db.prepare("INSERT INTO samples (device_id, seq, vin, name, time, value_num, unit) VALUES (?, 0, ?, 'Vehicle.Speed', 100, 50.5, 'km/h')").run(DEVICE, VIN);
    db.close();

    const s = store(path);
    expect(s.schemaVersion).toBe(MIGRATIONS.length);
    expect((await s.samplesByVin(VIN, 0, 1e12)).map((x) => [x.name, x.time, x.value, x.unit])).toEqual([
      ['Vehicle.Speed', 100, 50.5, 'km/h'],
      ['Vehicle.OBD.DTCList', 150, 'P0420', ''],
      ['Vehicle.Speed', 200, 51, 'km/h'],
      ['Vehicle.OBD.MIL', 300, 1, ''],
    ]);
    expect(s.database.prepare("SELECT name FROM sqlite_master WHERE name = 'samples'").get()).toBeUndefined();
  }); // prettier-ignore

  it('migrates schema 3: each device gets its registration key as its key from seq 0', async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const m of MIGRATIONS.slice(0, 3)) db.exec(m);
    db.pragma('user_version = 3');
    db.prepare(`INSERT INTO devices (device_id, public_key, vin, vin_salt, status, registered_at, registration_leaf, next_seq, head_hash)
                VALUES (?, x'02aa', ?, x'00', 'active', 0, 7, 5, x'00')`).run(DEVICE, VIN);
    db.close();
    const s = store(path);
    expect((await s.getDevice(DEVICE))?.keys).toEqual([{ publicKey: new Uint8Array([2, 0xaa]), fromSeq: 0, leafIndex: 7 }]);
  }); // prettier-ignore

  it('makes a checkpoint durable and leaves later commits at synchronous=NORMAL', async () => {
    const s = store();
    await s.saveCheckpoint({ treeSize: 1, root: sha('r'), note: 'n', createdAt: 1 });
    expect(await s.latestCheckpoint()).toMatchObject({ treeSize: 1, note: 'n' });
    // 1 = NORMAL: the FULL commit was the checkpoint's alone.
    expect(s.database.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('stores the node hashes of every complete subtree, matching RFC 9162 roots', async () => {
    const s = store();
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < 37; i++) {
      const entry = new TextEncoder().encode(`leaf ${i}`);
      leaves.push(leafHash(entry));
      expect(await s.appendLogEntry(entry, leafHash(entry))).toBe(i);
    }
    // (5, 0) covers leaves 0..31; (2, 8) covers 32..35; (0, 36) is the last leaf.
    const [n5, n2, n0] = await s.getLogNodes([{ level: 5, index: 0 }, { level: 2, index: 8 }, { level: 0, index: 36 }]);
    expect(n5).toEqual(mth(leaves.slice(0, 32)));
    expect(n2).toEqual(mth(leaves.slice(32, 36)));
    expect(n0).toEqual(leaves[36]);
    await expect(s.getLogNodes([{ level: 6, index: 0 }])).rejects.toMatchObject({ code: 'not-found' });
  }); // prettier-ignore

  it('accepts a nonce once per device (replay protection) and forgets expired ones', async () => {
    const s = store();
    expect(await s.useNonce(DEVICE, sha('n1'), 100, 0)).toBe(true);
    expect(await s.useNonce(DEVICE, sha('n1'), 100, 50)).toBe(false);
    expect(await s.useNonce('e'.repeat(32), sha('n1'), 100, 50)).toBe(true);
    expect(await s.useNonce(DEVICE, sha('n1'), 300, 200)).toBe(true);
  });

  it('keeps held batches, declared drops, quarantine and rejection counts', async () => {
    const s = store();
    await enrolled(s);
    await s.holdBatch({ deviceId: DEVICE, seq: 5, hash: sha('h'), bytes: sha('b'), receivedAt: 1 });
    expect((await s.heldBatches(DEVICE)).map((h) => h.seq)).toEqual([5]);
    await s.recordDeclaredDrops(DEVICE, 5, [{ seq: 0, hash: sha('dropped'), sampleCount: 10, firstTime: 0, lastTime: 9 }]);
    await s.skipDeclaredDrop(DEVICE, 0);
    expect((await s.getDevice(DEVICE))?.headHash).toEqual(sha('dropped'));
    await expect(s.skipDeclaredDrop(DEVICE, 3)).rejects.toMatchObject({ code: 'chain' });
    await s.quarantine({ deviceId: DEVICE, seq: 0, hash: sha('f'), bytes: sha('fork'), reason: 'fork', receivedAt: 2 });
    await s.recordRejection({ at: 1, code: 'bad-signature', detail: 'x' });
    await s.recordRejection({ at: 2, code: 'bad-signature', detail: 'y' });
    await s.recordRejection({ at: 3, code: 'too-large', detail: 'z' });
    expect(await s.rejectionCounts()).toEqual({ 'bad-signature': 2, 'too-large': 1 });
  }); // prettier-ignore
});
