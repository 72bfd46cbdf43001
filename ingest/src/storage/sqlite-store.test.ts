import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { leafHash, nodeHash } from '@enginechain/shared';
import { afterEach, describe, expect, it } from 'vitest';
import type { AcceptedBatch } from './ingest-store.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteIngestStore, StoreError } from './sqlite-store.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const DEVICE = 'd'.repeat(32);
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

function batch(seq: number, over: Partial<AcceptedBatch> = {}): AcceptedBatch {
  const bytes = sha(`batch ${seq}`);
  const entry = new TextEncoder().encode(`entry ${seq}`);
  return {
    deviceId: DEVICE,
    seq,
    hash: sha(bytes),
    bytes,
    vin: VIN,
    kind: 'routine',
    startTime: seq * 10_000,
    endTime: seq * 10_000 + 9_900,
    receivedAt: 1,
    samples: [
      { name: 'Vehicle.Speed', time: seq * 10_000, value: 42.5, unit: 'km/h' },
      { name: 'Vehicle.OBD.DTCList', time: seq * 10_000 + 1, value: 'P0301', unit: '' },
    ],
    events:
      seq === 1
        ? [
            {
              type: 'harsh-braking',
              priority: 'high',
              start: 10_500,
              end: 11_000,
              data: { peakMs2: -3.2 },
            },
          ]
        : [],
    declaredDrops: [],
    logEntry: entry,
    leafHash: leafHash(entry),
    ...over,
  };
}

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
    await s.acceptBatch(batch(0));
    await expect(s.acceptBatch(batch(2))).rejects.toMatchObject({ code: 'chain' });
    const { leafIndex } = await s.acceptBatch(batch(1));
    expect(leafIndex).toBe(2);
    const device = await s.getDevice(DEVICE);
    expect(device?.nextSeq).toBe(2);
    expect(device?.headHash).toEqual(batch(1).hash);
    expect((await s.getBatch(DEVICE, 1))?.bytes).toEqual(batch(1).bytes);
    expect((await s.eventsByVin(VIN)).map((e) => e.type)).toEqual(['harsh-braking']);
    const samples = await s.samplesByVin(VIN, 0, 20_000);
    expect(samples.map((x) => x.value)).toEqual([42.5, 'P0301', 42.5, 'P0301']);
  });

  it('leaves nothing behind when a batch fails inside its transaction', async () => {
    const s = store();
    await enrolled(s);
    await s.acceptBatch(batch(0));
    // The second sample violates NOT NULL after the leaf, batch row and first sample went in.
    const broken = batch(1, {
      samples: [
        { name: 'Vehicle.Speed', time: 1, value: 1, unit: 'km/h' },
        { name: 'Vehicle.Speed', time: 2, value: 1, unit: null as never },
      ],
    });
    await expect(s.acceptBatch(broken)).rejects.toThrow(/NOT NULL/);
    expect(await s.logSize()).toBe(2);
    expect(await s.getBatch(DEVICE, 1)).toBeUndefined();
    expect((await s.getDevice(DEVICE))?.nextSeq).toBe(1);
    expect((await s.samplesByVin(VIN, 0, 1e12)).length).toBe(2);
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
