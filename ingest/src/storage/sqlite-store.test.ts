import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { conformanceBatch, ingestStoreConformance } from './ingest-store.conformance.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteIngestStore, StoreError } from './sqlite-store.js';

const sha = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const DEVICE = conformanceBatch(0).deviceId;
const VIN = conformanceBatch(0).vin;
const batch = conformanceBatch;

function tempDb() {
  return join(mkdtempSync(join(tmpdir(), 'enginechain-store-')), 'node.db');
}

ingestStoreConformance('SQLite', async () => new SqliteIngestStore(tempDb()));

/** What only the SQLite file has: its pragmas and the migrations of files older nodes wrote. */
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
    const check = new Database(path, { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'samples'").get()).toBeUndefined();
    check.close();
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

  it('migrates schema 5: each device’s longest batch span, read from its stored batches', async () => {
    const path = tempDb();
    const db = new Database(path);
    for (const m of MIGRATIONS.slice(0, 5)) db.exec(m);
    db.pragma('user_version = 5');
    const insertDevice = db.prepare(`INSERT INTO devices (device_id, public_key, vin, vin_salt, status, registered_at, next_seq, head_hash)
                VALUES (?, x'02', ?, x'00', 'active', 0, 2, x'00')`);
    insertDevice.run(DEVICE, VIN);
    insertDevice.run('other-device', VIN);
    const insertBatch = db.prepare(`INSERT INTO batches (device_id, seq, hash, bytes, vin, kind, start_time, end_time, sample_count, received_at, leaf_index)
                VALUES (?, ?, x'00', x'00', ?, 'routine', ?, ?, 1, 1, ?)`);
    insertBatch.run(DEVICE, 0, VIN, 100, 300, 0);
    insertBatch.run(DEVICE, 1, VIN, 1_000, 90_000, 1);
    db.close();
    store(path);
    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT device_id, max_span FROM devices ORDER BY max_span').all()).toEqual([
      { device_id: 'other-device', max_span: 0 },
      { device_id: DEVICE, max_span: 89_000 },
    ]);
    check.close();
  }); // prettier-ignore

  it('makes a checkpoint durable and leaves later commits at synchronous=NORMAL', async () => {
    const s = store();
    await s.saveCheckpoint({ treeSize: 1, root: sha('r'), note: 'n', createdAt: 1 });
    expect(await s.latestCheckpoint()).toMatchObject({ treeSize: 1, note: 'n' });
    // 1 = NORMAL: the FULL commit was the checkpoint's alone.
    expect(s.synchronous).toBe(1);
  });
});
