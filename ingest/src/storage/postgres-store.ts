import pg from 'pg';
import { leafHash, nodeHash } from '@enginechain/shared';
import {
  SAMPLE_ID_SPAN,
  SamplePageBuilder,
  sampleChunkOf,
  sampleChunkStart,
  samplesIn,
  type SampleBatchRow,
} from './batch-samples.js';
import { StoreError, keyForSeq, longestSpans } from './ingest-store.js';
import type {
  AcceptedBatch,
  BatchLeaf,
  CheckpointRow,
  DeclaredDrop,
  DeviceKeyPeriod,
  DeviceRecord,
  EnrolmentToken,
  GroupAcceptResult,
  HeldBatch,
  IngestStore,
  LogNodeId,
  QuarantinedBatch,
  SamplePage,
  SampleChunk,
  SampleChunkQuery,
  SamplePageQuery,
  StoredBatchRow,
  StoredEvent,
  StoredSample,
  VehicleChanges,
  VehicleStats,
  BatchRangeSize,
} from './ingest-store.js';
import { PostgresAccessStore } from './postgres-access-store.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { query, withoutPassword, type Queryable } from './postgres-query.js';
import {
  buf,
  toBatch,
  toBatchLeaf,
  toCheckpoint,
  toDevice,
  toDrop,
  toEvent,
  toQuarantined,
  toVehicleChanges,
  toVehicleStats,
  u8,
  type Row,
} from './rows.js';

/**
 * A VIN's batches whose time span meets [$2, $3] ($1 the VIN), found between $2 − the longest
 * span any of the VIN's devices has sent (devices.max_span) and $3 (sqlite-store.ts says why).
 */
const MEETS_RANGE = `vin = $1 AND end_time >= $2 AND start_time <= $3
  AND start_time >= $2 - (SELECT COALESCE(MAX(max_span), 0) FROM devices WHERE vin = $1)`;

/** Chain heads as a group transaction moves them; headHash is set once a batch moved it. */
type DeviceHeads = Map<
  string,
  { status: string; nextSeq: number; headHash: Uint8Array | undefined; keys: DeviceKeyPeriod[] }
>;

/** BIGINT columns hold ms times, seqs and leaf indices: all safe integers, read as numbers. */
const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Transactions that append to the log (or move a chain head) take this lock first, so leaves
 * are numbered without gaps or repeats and a device's status, keys and head are read and
 * changed by one writer at a time: the same serial order SQLite's single writer gives.
 */
const LOG_LOCK = 0x656e_6763; // "engc"
/** Held while migrating, so two nodes starting on one database do not both migrate. */
const MIGRATION_LOCK = 0x656e_676d; // "engm"

/** Batch rows of a sample query are read this many at a time (each holds its bytes). */
const SAMPLE_ROWS_PER_READ = 64;

/**
 * The node's PostgreSQL store. Every multi-row change is one transaction, as in SQLite.
 * Commits are asynchronous (synchronous_commit = off) except a checkpoint's, which waits for
 * its WAL flush and with it every commit before it (the WAL is written in order): what is
 * receipted survives a crash of the database server, as with SQLite's NORMAL plus one FULL
 * commit per checkpoint (sqlite-store.ts), and what a crash can lose is batches no device was
 * told about, which the devices still hold and send again.
 */
export class PostgresIngestStore implements IngestStore {
  readonly access: PostgresAccessStore;

  private constructor(private readonly pool: pg.Pool) {
    this.access = new PostgresAccessStore(pool, (work) => this.logTransaction(work));
  }

  /** Connects to `url` (postgres://…) and migrates the database to the latest schema. */
  static async open(url: string): Promise<PostgresIngestStore> {
    const pool = new pg.Pool({
      connectionString: url,
      types,
      options: '-c synchronous_commit=off',
      max: 8,
    });
    // A connection that breaks while idle is dropped by the pool; without a listener its
    // error would end the process.
    pool.on('error', () => {});
    const store = new PostgresIngestStore(pool);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end();
      if (err instanceof StoreError) throw err;
      throw new StoreError(
        'unavailable',
        `cannot open the PostgreSQL database ${withoutPassword(url)}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return store;
  }

  /** Schema version of the database. */
  async schemaVersion(): Promise<number> {
    const r = await this.pool.query<{ version: number }>('SELECT version FROM enginechain_schema');
    return r.rows[0]?.version ?? 0;
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS enginechain_schema (version INTEGER NOT NULL)');
      const r = await c.query<{ version: number }>('SELECT version FROM enginechain_schema');
      const current = r.rows[0]?.version ?? 0;
      if (current > POSTGRES_MIGRATIONS.length)
        throw new StoreError(
          'schema',
          `database schema ${current} is newer than this node understands (${POSTGRES_MIGRATIONS.length})`,
        );
      for (let v = current; v < POSTGRES_MIGRATIONS.length; v++) {
        await c.query('BEGIN');
        try {
          await c.query(POSTGRES_MIGRATIONS[v] ?? '');
          await c.query('DELETE FROM enginechain_schema');
          await c.query('INSERT INTO enginechain_schema (version) VALUES ($1)', [v + 1]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      c.release();
    }
  }

  /** Runs `work` in one transaction on one connection: all of it commits, or none. */
  private async transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const result = await work(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** A transaction holding the log lock, with an appender for its leaves. */
  private logTransaction<T>(work: (c: pg.PoolClient, log: LogAppender) => Promise<T>): Promise<T> {
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOG_LOCK]);
      const log = await LogAppender.open(c);
      const result = await work(c, log);
      await log.flush();
      return result;
    });
  }

  async addEnrolmentToken(t: EnrolmentToken): Promise<void> {
    await query(
      this.pool,
      'INSERT INTO enrolment_tokens (token_hash, vin, owner, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [buf(t.tokenHash), t.vin, t.owner ?? null, t.createdAt, t.expiresAt],
    );
  }

  async registerDevice(
    args: Parameters<IngestStore['registerDevice']>[0],
  ): ReturnType<IngestStore['registerDevice']> {
    return this.logTransaction(async (c, log) => {
      const token = (
        await query(c, 'SELECT * FROM enrolment_tokens WHERE token_hash = $1 FOR UPDATE', [
          buf(args.tokenHash),
        ])
      ).rows[0];
      if (!token) return { error: 'unknown-token' as const };
      if (token.used_at !== null) return { error: 'token-used' as const };
      if ((token.expires_at as number) < args.now) return { error: 'token-expired' as const };
      if ((await query(c, 'SELECT 1 FROM devices WHERE device_id = $1', [args.deviceId])).rowCount)
        return { error: 'device-exists' as const };
      await query(
        c,
        'UPDATE enrolment_tokens SET used_at = $1, device_id = $2 WHERE token_hash = $3',
        [args.now, args.deviceId, buf(args.tokenHash)],
      );
      const entry = args.logEntry(token.vin as string);
      const leafIndex = await log.append(entry, leafHash(entry));
      await query(
        c,
        `INSERT INTO devices (device_id, public_key, vin, vin_salt, owner, status, registered_at, registration_leaf, next_seq, head_hash)
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, 0, $8)`,
        [args.deviceId, buf(args.publicKey), token.vin, buf(args.vinSalt), token.owner, args.now, leafIndex, Buffer.alloc(32)],
      ); // prettier-ignore
      await query(
        c,
        'INSERT INTO device_keys (device_id, from_seq, public_key, leaf_index) VALUES ($1, 0, $2, $3)',
        [args.deviceId, buf(args.publicKey), leafIndex],
      );
      const device = await deviceRow(c, args.deviceId);
      if (!device) throw new StoreError('not-found', 'device vanished inside its transaction');
      return { device, leafIndex };
    });
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    return deviceRow(this.pool, deviceId);
  }

  async devicesByVin(vin: string): Promise<DeviceRecord[]> {
    const rows = (
      await query(this.pool, 'SELECT * FROM devices WHERE vin = $1 ORDER BY registered_at, device_id', [vin])
    ).rows; // prettier-ignore
    return Promise.all(rows.map((r) => deviceOf(this.pool, r)));
  }

  async listDevices(): Promise<DeviceRecord[]> {
    const rows = (await query(this.pool, 'SELECT * FROM devices ORDER BY registered_at, device_id'))
      .rows;
    return Promise.all(rows.map((r) => deviceOf(this.pool, r)));
  }

  async revokeDevice(
    args: Parameters<IngestStore['revokeDevice']>[0],
  ): ReturnType<IngestStore['revokeDevice']> {
    return this.logTransaction(async (c, log) => {
      const r = await query(
        c,
        "UPDATE devices SET status = 'revoked' WHERE device_id = $1 AND status = 'active'",
        [args.deviceId],
      );
      if (r.rowCount !== 1) {
        const exists = (await query(c, 'SELECT 1 FROM devices WHERE device_id = $1', [args.deviceId])).rowCount; // prettier-ignore
        return { error: exists ? ('already-revoked' as const) : ('unknown-device' as const) };
      }
      return { leafIndex: await log.append(args.logEntry, leafHash(args.logEntry)) };
    });
  }

  async rotateDeviceKey(
    args: Parameters<IngestStore['rotateDeviceKey']>[0],
  ): ReturnType<IngestStore['rotateDeviceKey']> {
    return this.logTransaction(async (c, log) => {
      const row = (
        await query(c, 'SELECT status, next_seq FROM devices WHERE device_id = $1', [args.deviceId])
      ).rows[0];
      if (!row) return { error: 'unknown-device' as const };
      if (row.status !== 'active') return { error: 'revoked' as const };
      const last = (
        await query(c, 'SELECT MAX(from_seq) AS s FROM device_keys WHERE device_id = $1', [args.deviceId])
      ).rows[0] as { s: number | null }; // prettier-ignore
      // As in SQLite: a rotation may start at the device's next seq or later, never below.
      if (args.fromSeq < (row.next_seq as number) || args.fromSeq <= (last.s ?? -1))
        return { error: 'seq-passed' as const };
      const leafIndex = await log.append(args.logEntry, leafHash(args.logEntry));
      await query(
        c,
        'INSERT INTO device_keys (device_id, from_seq, public_key, leaf_index) VALUES ($1, $2, $3, $4)',
        [args.deviceId, args.fromSeq, buf(args.publicKey), leafIndex],
      );
      await query(c, 'UPDATE devices SET public_key = $1 WHERE device_id = $2', [
        buf(args.publicKey),
        args.deviceId,
      ]);
      return { leafIndex };
    });
  }

  async useNonce(
    deviceId: string,
    nonce: Uint8Array,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    return this.transaction(async (c) => {
      await query(c, 'DELETE FROM auth_nonces WHERE expires_at < $1', [now]);
      const r = await query(
        c,
        'INSERT INTO auth_nonces (device_id, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [deviceId, buf(nonce), expiresAt],
      );
      return r.rowCount === 1;
    });
  }

  async getBatch(deviceId: string, seq: number): Promise<StoredBatchRow | undefined> {
    const r = (
      await query(this.pool, 'SELECT * FROM batches WHERE device_id = $1 AND seq = $2', [deviceId, seq])
    ).rows[0]; // prettier-ignore
    return r ? toBatch(r) : undefined;
  }

  async acceptBatches(batches: readonly AcceptedBatch[]): Promise<GroupAcceptResult[]> {
    if (batches.length === 0) return [];
    // As in SQLite: the group runs without savepoints first; only when a batch fails is it
    // rolled back and run again with one savepoint per batch.
    try {
      return await this.logTransaction((c, log) => this.acceptGroup(c, log, batches, false));
    } catch (err) {
      if (!(err instanceof BatchInGroupFailed)) throw err;
      return this.logTransaction((c, log) => this.acceptGroup(c, log, batches, true));
    }
  }

  /**
   * The group in one transaction; see SqliteIngestStore.acceptGroupTx. Rows are collected and
   * written in one statement per table: without `isolate` once for the group (a failure there
   * aborts it, to run again isolated), with it once per batch inside the batch's savepoint.
   */
  private async acceptGroup(
    c: pg.PoolClient,
    log: LogAppender,
    batches: readonly AcceptedBatch[],
    isolate: boolean,
  ): Promise<GroupAcceptResult[]> {
    const heads = await readHeads(c, batches);
    const rows = new GroupRows();
    const results: GroupAcceptResult[] = [];
    for (const b of batches) {
      if (!isolate) {
        try {
          results.push({ ok: true, leafIndex: await this.acceptOne(b, heads, log, rows) });
        } catch (err) {
          throw new BatchInGroupFailed(err);
        }
        continue;
      }
      const mark = log.mark();
      // The head moves when the batch is taken, before its rows are written: a failure
      // writing them puts it back.
      const head = heads.get(b.deviceId);
      const headBefore = head && { nextSeq: head.nextSeq, headHash: head.headHash };
      await c.query('SAVEPOINT batch');
      try {
        const leafIndex = await this.acceptOne(b, heads, log, rows);
        await log.flush();
        await rows.flush(c);
        await c.query('RELEASE SAVEPOINT batch');
        results.push({ ok: true, leafIndex });
      } catch (err) {
        await c.query('ROLLBACK TO SAVEPOINT batch');
        log.rewind(mark);
        rows.clear();
        if (head && headBefore) Object.assign(head, headBefore);
        results.push({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    try {
      await log.flush();
      await rows.flush(c);
    } catch (err) {
      throw new BatchInGroupFailed(err);
    }
    const moved = [...heads].filter(([, head]) => head.headHash);
    const spans = longestSpans(batches, results);
    if (moved.length > 0)
      await query(
        c,
        `UPDATE devices SET next_seq = h.next_seq, head_hash = h.head_hash,
           max_span = GREATEST(devices.max_span, h.max_span)
         FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bigint[]) AS h (device_id, next_seq, head_hash, max_span)
         WHERE devices.device_id = h.device_id`,
        [moved.map(([id]) => id), moved.map(([, h]) => h.nextSeq), moved.map(([, h]) => buf(h.headHash as Uint8Array)), moved.map(([id]) => spans.get(id) ?? 0)],
      ); // prettier-ignore
    return results;
  }

  private async acceptOne(
    b: AcceptedBatch,
    heads: DeviceHeads,
    log: LogAppender,
    rows: GroupRows,
  ): Promise<number> {
    const head = heads.get(b.deviceId);
    if (!head) throw new StoreError('not-found', `unknown device ${b.deviceId}`);
    if (head.status !== 'active')
      throw new StoreError('revoked', `device ${b.deviceId} is ${head.status}`);
    if (b.seq !== head.nextSeq)
      throw new StoreError('chain', `seq ${b.seq} is not the next expected ${head.nextSeq}`);
    if (b.signedBy) {
      const valid = keyForSeq(head.keys, b.seq);
      if (!valid || Buffer.compare(valid.publicKey, b.signedBy) !== 0)
        throw new StoreError(
          'key-rotated',
          `batch ${b.seq} of ${b.deviceId} is signed with a key the device rotated away from`,
        );
    }
    const n = b.sampleCount;
    if (!Number.isSafeInteger(n) || n < 0 || n >= SAMPLE_ID_SPAN)
      throw new StoreError('bad-input', `sampleCount: expected 0 to ${SAMPLE_ID_SPAN - 1}, got ${n}`); // prettier-ignore
    // Serialised before anything is appended: a batch whose events cannot be stored fails here.
    const events = b.events.map((e) => JSON.stringify(e.data));
    const leafIndex = await log.append(b.logEntry, b.leafHash);
    rows.add(b, leafIndex, events);
    head.nextSeq = b.seq + 1;
    head.headHash = b.hash;
    return leafIndex;
  }

  async holdBatch(h: HeldBatch): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO held_batches (device_id, seq, hash, bytes, received_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (device_id, seq) DO UPDATE SET hash = EXCLUDED.hash, bytes = EXCLUDED.bytes, received_at = EXCLUDED.received_at`,
      [h.deviceId, h.seq, buf(h.hash), buf(h.bytes), h.receivedAt],
    );
  }

  async heldBatches(deviceId: string): Promise<HeldBatch[]> {
    const rows = (
      await query(this.pool, 'SELECT * FROM held_batches WHERE device_id = $1 ORDER BY seq', [deviceId])
    ).rows; // prettier-ignore
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      seq: r.seq as number,
      hash: u8(r.hash),
      bytes: u8(r.bytes),
      receivedAt: r.received_at as number,
    }));
  }

  async removeHeld(deviceId: string, seq: number): Promise<void> {
    await query(this.pool, 'DELETE FROM held_batches WHERE device_id = $1 AND seq = $2', [
      deviceId,
      seq,
    ]);
  }

  async declaredDrop(deviceId: string, seq: number): Promise<DeclaredDrop | undefined> {
    const r = (
      await query(this.pool, 'SELECT * FROM declared_drops WHERE device_id = $1 AND seq = $2', [deviceId, seq])
    ).rows[0]; // prettier-ignore
    return r ? toDrop(r) : undefined;
  }

  async declaredDropsFrom(deviceId: string, fromSeq: number): Promise<DeclaredDrop[]> {
    const rows = (
      await query(this.pool, 'SELECT * FROM declared_drops WHERE device_id = $1 AND seq >= $2 ORDER BY seq', [deviceId, fromSeq])
    ).rows; // prettier-ignore
    return rows.map(toDrop);
  }

  async recordDeclaredDrops(
    deviceId: string,
    declaredIn: number,
    drops: readonly DeclaredDrop[],
  ): Promise<void> {
    if (drops.length > 0) await insertDrops(this.pool, deviceId, declaredIn, drops);
  }

  async skipDeclaredDrop(deviceId: string, seq: number): Promise<void> {
    // Under the log lock: it moves a chain head, which batches of the device move too.
    await this.logTransaction(async (c) => {
      const device = (
        await query(c, 'SELECT next_seq FROM devices WHERE device_id = $1', [deviceId])
      ).rows[0];
      const drop = (
        await query(c, 'SELECT hash FROM declared_drops WHERE device_id = $1 AND seq = $2', [deviceId, seq])
      ).rows[0]; // prettier-ignore
      if (!device || !drop || device.next_seq !== seq)
        throw new StoreError('chain', `cannot skip seq ${seq} of ${deviceId}`);
      await query(c, 'UPDATE devices SET next_seq = $1, head_hash = $2 WHERE device_id = $3', [
        seq + 1,
        drop.hash,
        deviceId,
      ]);
    });
  }

  async quarantine(args: Parameters<IngestStore['quarantine']>[0]): Promise<void> {
    await query(
      this.pool,
      'INSERT INTO quarantine (device_id, seq, hash, bytes, reason, received_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [args.deviceId ?? null, args.seq ?? null, buf(args.hash), buf(args.bytes), args.reason, args.receivedAt],
    ); // prettier-ignore
  }

  async quarantined(deviceId: string): Promise<QuarantinedBatch[]> {
    const rows = (
      await query(this.pool, 'SELECT * FROM quarantine WHERE device_id = $1 ORDER BY seq NULLS FIRST, id', [deviceId])
    ).rows; // prettier-ignore
    return rows.map(toQuarantined);
  }

  async recordRejection(args: Parameters<IngestStore['recordRejection']>[0]): Promise<void> {
    await query(
      this.pool,
      'INSERT INTO rejections (at, device_id, code, detail) VALUES ($1, $2, $3, $4)',
      [args.at, args.deviceId ?? null, args.code, args.detail],
    );
  }

  async rejectionCounts(): Promise<Record<string, number>> {
    const rows = (
      await query(this.pool, 'SELECT code, COUNT(*) AS n FROM rejections GROUP BY code')
    ).rows;
    return Object.fromEntries(rows.map((r) => [r.code as string, r.n as number]));
  }

  async batchesByVin(vin: string, from: number, to: number): Promise<StoredBatchRow[]> {
    const rows = (
      await query(this.pool, `SELECT * FROM batches WHERE ${MEETS_RANGE} ORDER BY device_id, seq`, [vin, from, to])
    ).rows; // prettier-ignore
    return rows.map(toBatch);
  }

  async batchRangeSize(vin: string, from: number, to: number): Promise<BatchRangeSize> {
    // octet_length of a TOASTed value comes from its pointer: the bytes are not fetched.
    const r = (
      await query(this.pool, `SELECT COUNT(*) AS n, COALESCE(SUM(octet_length(bytes)), 0) AS bytes FROM batches WHERE ${MEETS_RANGE}`, [vin, from, to])
    ).rows[0] as Row; // prettier-ignore
    return { batches: Number(r.n), bytes: Number(r.bytes) };
  }

  async eventById(id: number): Promise<StoredEvent | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    const r = (await query(this.pool, 'SELECT * FROM events WHERE id = $1', [id])).rows[0];
    return r ? toEvent(r) : undefined;
  }

  async eventsByVin(vin: string): Promise<StoredEvent[]> {
    const rows = (
      await query(this.pool, 'SELECT * FROM events WHERE vin = $1 ORDER BY start_time, id', [vin])
    ).rows;
    return rows.map(toEvent);
  }

  async samplesByVin(
    vin: string,
    from: number,
    to: number,
    names?: readonly string[],
  ): Promise<(StoredSample & { deviceId: string; seq: number })[]> {
    const rows: SampleBatchRow[] = [];
    for await (const chunk of this.sampleBatches(vin, from, to)) rows.push(...chunk);
    return samplesIn(rows, from, to, names);
  }

  async samplePage(q: SamplePageQuery): Promise<SamplePage> {
    const page = new SamplePageBuilder(q);
    read: for await (const chunk of this.sampleBatches(q.vin, page.from, q.to))
      for (const r of chunk) if (!page.add(r)) break read;
    return page.page();
  }

  /**
   * The batches whose time span meets [from, to], earliest start first, a chunk at a time
   * (keyset on start_time, leaf_index): a page stops reading once it is full.
   */
  private async *sampleBatches(
    vin: string,
    from: number,
    to: number,
  ): AsyncGenerator<SampleBatchRow[]> {
    let after = { start: -Infinity, leaf: -1 };
    for (;;) {
      const rows = (
        await query(
          this.pool,
          `SELECT device_id, seq, leaf_index, start_time, bytes FROM batches
           WHERE ${MEETS_RANGE} AND sample_count > 0 AND (start_time, leaf_index) > ($4, $5)
           ORDER BY start_time, leaf_index LIMIT ${SAMPLE_ROWS_PER_READ}`,
          [vin, from, to, Number.isFinite(after.start) ? after.start : Number.MIN_SAFE_INTEGER, after.leaf],
        )
      ).rows as unknown as SampleBatchRow[]; // prettier-ignore
      if (rows.length > 0) yield rows;
      if (rows.length < SAMPLE_ROWS_PER_READ) return;
      const last = rows[rows.length - 1] as SampleBatchRow;
      after = { start: last.start_time, leaf: last.leaf_index };
    }
  }

  async sampleChunk(q: SampleChunkQuery): Promise<SampleChunk> {
    const after = sampleChunkStart(q);
    const rows = (
      await query(
        this.pool,
        `SELECT device_id, seq, leaf_index, start_time, bytes FROM batches
         WHERE vin = $1 AND (start_time, leaf_index) > ($2, $3) AND sample_count > 0
         ORDER BY start_time, leaf_index LIMIT $4`,
        [q.vin, after.startTime, after.leafIndex, q.batches],
      )
    ).rows as unknown as SampleBatchRow[];
    return sampleChunkOf(rows, q);
  }

  async batchLeaves(vin: string, from: number, to: number): Promise<BatchLeaf[]> {
    const rows = (
      await query(
        this.pool,
        `SELECT device_id, seq, leaf_index, start_time, end_time, kind FROM batches
         WHERE ${MEETS_RANGE} ORDER BY start_time, device_id, seq`,
        [vin, from, to],
      )
    ).rows;
    return rows.map(toBatchLeaf);
  }

  async vehicleStats(vin: string): Promise<VehicleStats> {
    // As sqlite-store.ts: the latest end among the batches within the longest span of the latest start.
    const r = (
      await query(
        this.pool,
        `SELECT COUNT(*) AS n, MIN(start_time) AS first,
           (SELECT MAX(end_time) FROM batches WHERE vin = $1 AND start_time >=
             (SELECT MAX(start_time) FROM batches WHERE vin = $1)
               - (SELECT COALESCE(MAX(max_span), 0) FROM devices WHERE vin = $1)) AS last
         FROM batches WHERE vin = $1`,
        [vin],
      )
    ).rows[0] as Row;
    return toVehicleStats(r);
  }

  async vehicleChanges(vin: string, afterLeafIndex: number): Promise<VehicleChanges> {
    const r = (
      await query(
        this.pool,
        `SELECT COUNT(*) AS n, MIN(start_time) AS earliest, MAX(start_time) AS latest,
           MAX(leaf_index) AS last FROM batches WHERE vin = $1 AND leaf_index > $2`,
        [vin, afterLeafIndex],
      )
    ).rows[0] as Row;
    return toVehicleChanges(r);
  }

  async counts(): Promise<{ devices: number; vehicles: number; batches: number }> {
    const r = (
      await query(
        this.pool,
        `SELECT (SELECT COUNT(*) FROM devices) AS devices,
                (SELECT COUNT(DISTINCT vin) FROM devices) AS vehicles,
                (SELECT COUNT(*) FROM batches) AS batches`,
      )
    ).rows[0] as Row;
    return {
      devices: r.devices as number,
      vehicles: r.vehicles as number,
      batches: r.batches as number,
    };
  }

  async logSize(): Promise<number> {
    return logSizeOf(this.pool);
  }

  async logEntry(
    leafIndex: number,
  ): Promise<{ entry: Uint8Array; leafHash: Uint8Array } | undefined> {
    const r = (
      await query(this.pool, 'SELECT * FROM log_leaves WHERE leaf_index = $1', [leafIndex])
    ).rows[0];
    return r ? { entry: u8(r.entry), leafHash: u8(r.leaf_hash) } : undefined;
  }

  async appendLogEntry(entry: Uint8Array, leafHash: Uint8Array): Promise<number> {
    return this.logTransaction((_c, log) => log.append(entry, leafHash));
  }

  async getLogNodes(ids: readonly LogNodeId[]): Promise<Uint8Array[]> {
    return Promise.all(ids.map((id) => logNode(this.pool, id.level, id.index)));
  }

  async saveCheckpoint(row: CheckpointRow): Promise<void> {
    // This commit alone waits for its WAL flush, and so for every commit before it.
    await this.transaction(async (c) => {
      await c.query('SET LOCAL synchronous_commit = on');
      await query(
        c,
        'INSERT INTO checkpoints (tree_size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [row.treeSize, buf(row.root), row.note, row.createdAt],
      );
    });
  }

  async latestCheckpoint(): Promise<CheckpointRow | undefined> {
    const r = (await query(this.pool, 'SELECT * FROM checkpoints ORDER BY tree_size DESC LIMIT 1'))
      .rows[0];
    return r ? toCheckpoint(r) : undefined;
  }

  async checkpointAt(treeSize: number): Promise<CheckpointRow | undefined> {
    const r = (await query(this.pool, 'SELECT * FROM checkpoints WHERE tree_size = $1', [treeSize]))
      .rows[0];
    return r ? toCheckpoint(r) : undefined;
  }

  async firstCheckpointAtLeast(treeSize: number): Promise<CheckpointRow | undefined> {
    const r = (
      await query(this.pool, 'SELECT * FROM checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1', [treeSize])
    ).rows[0]; // prettier-ignore
    return r ? toCheckpoint(r) : undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * The status, chain head and keys of every device of a group, in two statements. Read under
 * the log lock: a revocation or rotation committed before the group, or waits for it.
 */
async function readHeads(
  c: pg.PoolClient,
  batches: readonly AcceptedBatch[],
): Promise<DeviceHeads> {
  const ids = [...new Set(batches.map((b) => b.deviceId))];
  const heads: DeviceHeads = new Map();
  for (const r of (await query(c, 'SELECT device_id, status, next_seq FROM devices WHERE device_id = ANY($1::text[])', [ids])).rows) // prettier-ignore
    heads.set(r.device_id as string, { status: r.status as string, nextSeq: r.next_seq as number, headHash: undefined, keys: [] }); // prettier-ignore
  if (batches.some((b) => b.signedBy))
    for (const k of (await query(c, 'SELECT device_id, from_seq, public_key, leaf_index FROM device_keys WHERE device_id = ANY($1::text[]) ORDER BY device_id, from_seq', [ids])).rows) // prettier-ignore
      heads.get(k.device_id as string)?.keys.push({ publicKey: u8(k.public_key), fromSeq: k.from_seq as number, leafIndex: k.leaf_index as number }); // prettier-ignore
  return heads;
}

async function insertDrops(
  db: Queryable,
  deviceId: string,
  declaredIn: number,
  drops: readonly DeclaredDrop[],
): Promise<void> {
  // One statement for all of them: atomic without a transaction of its own.
  await query(
    db,
    `INSERT INTO declared_drops (device_id, seq, hash, sample_count, first_time, last_time, declared_in)
     SELECT $1, d.seq, d.hash, d.sample_count, d.first_time, d.last_time, $2
     FROM unnest($3::bigint[], $4::bytea[], $5::integer[], $6::bigint[], $7::bigint[])
       AS d (seq, hash, sample_count, first_time, last_time)
     ON CONFLICT DO NOTHING`,
    [deviceId, declaredIn, drops.map((d) => d.seq), drops.map((d) => buf(d.hash)), drops.map((d) => d.sampleCount), drops.map((d) => d.firstTime), drops.map((d) => d.lastTime)],
  ); // prettier-ignore
}

async function logSizeOf(db: Queryable): Promise<number> {
  const r = await query(db, 'SELECT COALESCE(MAX(leaf_index) + 1, 0) AS n FROM log_leaves');
  return (r.rows[0] as { n: number }).n;
}

/** A complete subtree's hash; level 0 is a leaf, whose hash log_leaves keeps. */
async function logNode(db: Queryable, level: number, idx: number): Promise<Uint8Array> {
  const r = (
    level === 0
      ? await query(db, 'SELECT leaf_hash AS hash FROM log_leaves WHERE leaf_index = $1', [idx])
      : await query(db, 'SELECT hash FROM log_nodes WHERE level = $1 AND idx = $2', [level, idx])
  ).rows[0];
  if (!r) throw new StoreError('not-found', `log node (${level}, ${idx}) is missing`);
  return u8(r.hash);
}

async function deviceRow(db: Queryable, deviceId: string): Promise<DeviceRecord | undefined> {
  const r = (await query(db, 'SELECT * FROM devices WHERE device_id = $1', [deviceId])).rows[0];
  return r ? deviceOf(db, r) : undefined;
}

async function keysOf(db: Queryable, deviceId: string): Promise<DeviceKeyPeriod[]> {
  const rows = (
    await query(db, 'SELECT from_seq, public_key, leaf_index FROM device_keys WHERE device_id = $1 ORDER BY from_seq', [deviceId])
  ).rows; // prettier-ignore
  return rows.map((k) => ({
    publicKey: u8(k.public_key),
    fromSeq: k.from_seq as number,
    leafIndex: k.leaf_index as number,
  }));
}

async function deviceOf(db: Queryable, r: Row): Promise<DeviceRecord> {
  return toDevice(r, await keysOf(db, r.device_id as string));
}

/** The rows of a group of accepted batches, written in one statement per table. */
class GroupRows {
  private batch = GroupRows.columns(11);
  private event = GroupRows.columns(8);
  private drop = GroupRows.columns(7);
  private held = GroupRows.columns(2);

  private static columns(n: number): unknown[][] {
    return Array.from({ length: n }, () => []);
  }

  private static push(columns: unknown[][], values: readonly unknown[]): void {
    values.forEach((v, i) => (columns[i] as unknown[]).push(v));
  }

  add(b: AcceptedBatch, leafIndex: number, eventData: readonly string[]): void {
    GroupRows.push(this.batch, [b.deviceId, b.seq, buf(b.hash), buf(b.bytes), b.vin, b.kind, b.startTime, b.endTime, b.sampleCount, b.receivedAt, leafIndex]); // prettier-ignore
    b.events.forEach((e, i) =>
      GroupRows.push(this.event, [b.deviceId, b.seq, b.vin, e.type, e.priority, e.start, e.end, eventData[i]]),
    ); // prettier-ignore
    for (const d of b.declaredDrops)
      GroupRows.push(this.drop, [b.deviceId, d.seq, buf(d.hash), d.sampleCount, d.firstTime, d.lastTime, b.seq]); // prettier-ignore
    if (b.wasHeld) GroupRows.push(this.held, [b.deviceId, b.seq]);
  }

  clear(): void {
    this.batch = GroupRows.columns(11);
    this.event = GroupRows.columns(8);
    this.drop = GroupRows.columns(7);
    this.held = GroupRows.columns(2);
  }

  async flush(c: pg.PoolClient): Promise<void> {
    if ((this.batch[0] as unknown[]).length > 0)
      await query(
        c,
        `INSERT INTO batches (device_id, seq, hash, bytes, vin, kind, start_time, end_time, sample_count, received_at, leaf_index)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::integer[], $10::bigint[], $11::bigint[])`,
        this.batch,
      );
    if ((this.event[0] as unknown[]).length > 0)
      await query(
        c,
        `INSERT INTO events (device_id, seq, vin, type, priority, start_time, end_time, data)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::text[])`,
        this.event,
      );
    if ((this.drop[0] as unknown[]).length > 0)
      await query(
        c,
        `INSERT INTO declared_drops (device_id, seq, hash, sample_count, first_time, last_time, declared_in)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::integer[], $5::bigint[], $6::bigint[], $7::bigint[])
         ON CONFLICT DO NOTHING`,
        this.drop,
      );
    if ((this.held[0] as unknown[]).length > 0)
      await query(
        c,
        `DELETE FROM held_batches h USING unnest($1::text[], $2::bigint[]) AS d (device_id, seq)
         WHERE h.device_id = d.device_id AND h.seq = d.seq`,
        this.held,
      );
    this.clear();
  } // prettier-ignore
}

/** Aborts an optimistic group transaction so it can run again with a savepoint per batch. */
class BatchInGroupFailed extends Error {
  constructor(cause: unknown) {
    super('a batch of the group failed', { cause });
  }
}

/**
 * Appends leaves and every complete subtree they complete, inside the caller's transaction
 * (which holds the log lock), as the SQLite store's LogAppender does: the size is read once and
 * the nodes it wrote are kept, so a group reads a left sibling only when an earlier
 * transaction wrote it. Rows are buffered and written by `flush` in one statement per table
 * (`logTransaction` flushes before it commits): one round trip per group, not per leaf.
 */
export class LogAppender {
  private readonly written = new Map<number, Uint8Array>();
  private readonly order: number[] = [];
  private readonly leaves: { index: number[]; entry: Buffer[]; hash: Buffer[] } = {
    index: [],
    entry: [],
    hash: [],
  };
  private readonly nodes: { level: number[]; idx: number[]; hash: Buffer[] } = {
    level: [],
    idx: [],
    hash: [],
  };

  private constructor(
    private readonly c: pg.PoolClient,
    private size: number,
  ) {}

  static async open(c: pg.PoolClient): Promise<LogAppender> {
    return new LogAppender(c, await logSizeOf(c));
  }

  private static key(level: number, idx: number): number {
    return idx * 64 + level;
  }

  async append(entry: Uint8Array, leafHash: Uint8Array): Promise<number> {
    const index = this.size;
    this.leaves.index.push(index);
    this.leaves.entry.push(buf(entry));
    this.leaves.hash.push(buf(leafHash));
    let hash = leafHash;
    let level = 0;
    let idx = index;
    this.remember(level, idx, hash);
    while (idx % 2 === 1) {
      hash = nodeHash(await this.get(level, idx - 1), hash);
      level++;
      idx = Math.floor(idx / 2);
      this.remember(level, idx, hash);
      this.nodes.level.push(level);
      this.nodes.idx.push(idx);
      this.nodes.hash.push(buf(hash));
    }
    this.size = index + 1;
    return index;
  }

  /** Writes the leaves and nodes appended since the last flush. */
  async flush(): Promise<void> {
    const { leaves, nodes } = this;
    if (leaves.index.length > 0)
      await query(
        this.c,
        'INSERT INTO log_leaves (leaf_index, entry, leaf_hash) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[])',
        [leaves.index, leaves.entry, leaves.hash],
      );
    if (nodes.level.length > 0)
      await query(
        this.c,
        'INSERT INTO log_nodes (level, idx, hash) SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bytea[])',
        [nodes.level, nodes.idx, nodes.hash],
      );
    for (const column of [leaves.index, leaves.entry, leaves.hash, nodes.level, nodes.idx, nodes.hash])
      column.length = 0;
  } // prettier-ignore

  mark(): { size: number; written: number } {
    return { size: this.size, written: this.order.length };
  }

  /** Forgets what was appended since `mark` (its savepoint was rolled back), flushed or not. */
  rewind(mark: { size: number; written: number }): void {
    this.size = mark.size;
    for (const key of this.order.splice(mark.written)) this.written.delete(key);
    const keep = (xs: unknown[], of: number[]) => (xs.length = of.filter((i) => i < mark.size).length); // prettier-ignore
    keep(this.leaves.entry, this.leaves.index);
    keep(this.leaves.hash, this.leaves.index);
    keep(this.leaves.index, this.leaves.index);
    // A node (level, idx) covers leaves below (idx + 1) × 2^level.
    const below = this.nodes.idx.filter((idx, i) => (idx + 1) * 2 ** (this.nodes.level[i] as number) <= mark.size).length; // prettier-ignore
    this.nodes.level.length = below;
    this.nodes.idx.length = below;
    this.nodes.hash.length = below;
  }

  private remember(level: number, idx: number, hash: Uint8Array): void {
    const key = LogAppender.key(level, idx);
    this.written.set(key, hash);
    this.order.push(key);
  }

  private async get(level: number, idx: number): Promise<Uint8Array> {
    return this.written.get(LogAppender.key(level, idx)) ?? logNode(this.c, level, idx);
  }
}
