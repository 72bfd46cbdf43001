import Database from 'better-sqlite3';
import { leafHash, nodeHash } from '@enginechain/shared';
import {
  SAMPLE_ID_SPAN,
  SamplePageBuilder,
  sampleChunkOf,
  sampleChunkStart,
  samplesIn,
  type SampleBatchRow,
} from './batch-samples.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteAccessStore } from './sqlite-access-store.js';
import {
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
import { StoreError, keyForSeq, longestSpans } from './ingest-store.js';
import type {
  AcceptedBatch,
  CheckpointRow,
  DeclaredDrop,
  DeviceKeyPeriod,
  DeviceRecord,
  EnrolmentToken,
  GroupAcceptResult,
  HeldBatch,
  IngestStore,
  BatchLeaf,
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

/**
 * A VIN's batches whose time span meets [:from, :to] (named parameters vin, from, to). The
 * index on (vin, start_time) finds them between :from − the longest span any of the VIN's
 * devices has sent (devices.max_span) and :to, instead of from the vehicle's first batch.
 */
const MEETS_RANGE = `vin = :vin AND end_time >= :from AND start_time <= :to
  AND start_time >= :from - (SELECT COALESCE(MAX(max_span), 0) FROM devices WHERE vin = :vin)`;

export { StoreError };

/** Chain heads as a group transaction moves them; headHash is set once a batch moved it. */
type DeviceHeads = Map<
  string,
  { nextSeq: number; headHash: Uint8Array | undefined; keys: DeviceKeyPeriod[] | undefined }
>;

/**
 * The node's SQLite store: one file, WAL, synchronous=NORMAL, and one synchronous=FULL commit
 * per signed checkpoint. With NORMAL a commit is written to the WAL but not fsynced: it
 * survives the process dying (SIGKILL), not a power cut. A receipt is the node's promise that
 * a batch is logged and goes out only after a signed checkpoint covers it; `saveCheckpoint`
 * commits the checkpoint with FULL, which fsyncs the WAL, and with it every commit before (the
 * WAL is one file written in order). So everything receipted survives a power cut, without an
 * fsync per group of batches; what a power cut can lose is batches no device was told about,
 * which the devices still hold and send again.
 */
export class SqliteIngestStore implements IngestStore {
  private readonly db: Database.Database;

  /** Prepared statements, kept: preparing costs more than running most of them. */
  private readonly statements = new Map<string, Database.Statement>();

  private st(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    // Users and grants live beside the log they write to: same connection, same transactions.
    this.access = new SqliteAccessStore(this.db, (entry, hash) => this.appendLeafTx(entry, hash));
  }

  readonly access: SqliteAccessStore;

  /** The connection's synchronous level (1 = NORMAL): a checkpoint's commit alone is FULL. */
  get synchronous(): number {
    return this.db.pragma('synchronous', { simple: true }) as number;
  }

  /** Schema version of the open file. */
  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      throw new StoreError(
        'schema',
        `database schema ${current} is newer than this node understands (${MIGRATIONS.length})`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] ?? '');
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  async addEnrolmentToken(t: EnrolmentToken): Promise<void> {
    this.st(
      'INSERT INTO enrolment_tokens (token_hash, vin, owner, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    ).run(t.tokenHash, t.vin, t.owner ?? null, t.createdAt, t.expiresAt);
  }

  async registerDevice(
    args: Parameters<IngestStore['registerDevice']>[0],
  ): ReturnType<IngestStore['registerDevice']> {
    return this.db.transaction(() => {
      const token = this.st('SELECT * FROM enrolment_tokens WHERE token_hash = ?').get(
        args.tokenHash,
      ) as Row | undefined;
      if (!token) return { error: 'unknown-token' as const };
      if (token.used_at !== null) return { error: 'token-used' as const };
      if ((token.expires_at as number) < args.now) return { error: 'token-expired' as const };
      if (this.st('SELECT 1 FROM devices WHERE device_id = ?').get(args.deviceId)) {
        return { error: 'device-exists' as const };
      }
      this.st('UPDATE enrolment_tokens SET used_at = ?, device_id = ? WHERE token_hash = ?').run(
        args.now,
        args.deviceId,
        args.tokenHash,
      );
      this.st(
        `INSERT INTO devices (device_id, public_key, vin, vin_salt, owner, status, registered_at, next_seq, head_hash)
           VALUES (?, ?, ?, ?, ?, 'active', ?, 0, ?)`,
      ).run(
        args.deviceId,
        args.publicKey,
        token.vin,
        args.vinSalt,
        token.owner,
        args.now,
        Buffer.alloc(32),
      );
      const entry = args.logEntry(token.vin as string);
      const leafIndex = this.appendLeafTx(entry, leafHash(entry));
      this.st('UPDATE devices SET registration_leaf = ? WHERE device_id = ?').run(
        leafIndex,
        args.deviceId,
      );
      this.st(
        'INSERT INTO device_keys (device_id, from_seq, public_key, leaf_index) VALUES (?, 0, ?, ?)',
      ).run(args.deviceId, args.publicKey, leafIndex);
      const device = this.deviceRow(args.deviceId);
      if (!device) throw new StoreError('not-found', 'device vanished inside its transaction');
      return { device, leafIndex };
    })();
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    return this.deviceRow(deviceId);
  }

  async devicesByVin(vin: string): Promise<DeviceRecord[]> {
    const rows = this.st('SELECT * FROM devices WHERE vin = ? ORDER BY registered_at').all(vin);
    return (rows as Row[]).map((r) => this.toDevice(r));
  }

  /** Every device, oldest registration first (the operator's device list). */
  async listDevices(): Promise<DeviceRecord[]> {
    const rows = this.st('SELECT * FROM devices ORDER BY registered_at, device_id').all();
    return (rows as Row[]).map((r) => this.toDevice(r));
  }

  async revokeDevice(
    args: Parameters<IngestStore['revokeDevice']>[0],
  ): ReturnType<IngestStore['revokeDevice']> {
    return this.db.transaction(() => {
      const r = this.st(
        "UPDATE devices SET status = 'revoked' WHERE device_id = ? AND status = 'active'",
      ).run(args.deviceId);
      if (r.changes !== 1)
        return { error: this.deviceRow(args.deviceId) ? 'already-revoked' : 'unknown-device' } as const; // prettier-ignore
      return { leafIndex: this.appendLeafTx(args.logEntry, leafHash(args.logEntry)) };
    })();
  }

  async rotateDeviceKey(
    args: Parameters<IngestStore['rotateDeviceKey']>[0],
  ): ReturnType<IngestStore['rotateDeviceKey']> {
    return this.db.transaction(() => {
      const row = this.st('SELECT status, next_seq FROM devices WHERE device_id = ?').get(
        args.deviceId,
      ) as Row | undefined;
      if (!row) return { error: 'unknown-device' as const };
      if (row.status !== 'active') return { error: 'revoked' as const };
      const last = this.st('SELECT MAX(from_seq) AS s FROM device_keys WHERE device_id = ?').get(
        args.deviceId,
      ) as Row;
      // Batches at or past next_seq may already be signed with the old key and on their way,
      // but none is stored: a rotation may start there, never below (stored batches would
      // change key).
      if (args.fromSeq < (row.next_seq as number) || args.fromSeq <= ((last.s as number) ?? -1))
        return { error: 'seq-passed' as const };
      const leafIndex = this.appendLeafTx(args.logEntry, leafHash(args.logEntry));
      this.st(
        'INSERT INTO device_keys (device_id, from_seq, public_key, leaf_index) VALUES (?, ?, ?, ?)',
      ).run(args.deviceId, args.fromSeq, args.publicKey, leafIndex);
      this.st('UPDATE devices SET public_key = ? WHERE device_id = ?').run(
        args.publicKey,
        args.deviceId,
      );
      return { leafIndex };
    })();
  }

  async useNonce(
    deviceId: string,
    nonce: Uint8Array,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    return this.db.transaction(() => {
      this.st('DELETE FROM auth_nonces WHERE expires_at < ?').run(now);
      const r = this.st(
        'INSERT OR IGNORE INTO auth_nonces (device_id, nonce, expires_at) VALUES (?, ?, ?)',
      ).run(deviceId, nonce, expiresAt);
      return r.changes === 1;
    })();
  }

  async getBatch(deviceId: string, seq: number): Promise<StoredBatchRow | undefined> {
    const row = this.st('SELECT * FROM batches WHERE device_id = ? AND seq = ?').get(
      deviceId,
      seq,
    ) as Row | undefined;
    return row ? toBatch(row) : undefined;
  }

  async acceptBatches(batches: readonly AcceptedBatch[]): Promise<GroupAcceptResult[]> {
    if (batches.length === 0) return [];
    this.groupTx ??= this.db.transaction((group: readonly AcceptedBatch[], isolate: boolean) =>
      this.acceptGroupTx(group, isolate),
    );
    this.oneInGroupTx ??= this.db.transaction(
      (b: AcceptedBatch, heads: DeviceHeads, log: LogAppender) =>
        this.acceptOneInGroup(b, heads, log),
    );
    // Savepoints make SQLite journal every page a batch touches a second time, which costs
    // about as much as the rows themselves; batches that verified almost never fail here. So
    // the group first runs without them, and only when one batch fails is it rolled back and
    // run again with one savepoint per batch.
    try {
      return this.groupTx(batches, false);
    } catch (err) {
      if (!(err instanceof BatchInGroupFailed)) throw err;
      return this.groupTx(batches, true);
    }
  }

  /** Made on first use (the connection opens in the constructor); nested = a savepoint. */
  private groupTx:
    ((group: readonly AcceptedBatch[], isolate: boolean) => GroupAcceptResult[]) | undefined;
  private oneInGroupTx:
    ((b: AcceptedBatch, heads: DeviceHeads, log: LogAppender) => number) | undefined;

  /**
   * One transaction for the group: the log size and the chain head of each device are read
   * once, node hashes the group wrote are taken from memory, each device row is written once at
   * the end. With `isolate`, each batch runs in its own savepoint so a failure rolls back that
   * batch alone, the in-memory log and head state rewinding with it; without, the first
   * failure aborts the whole transaction (BatchInGroupFailed).
   */
  private acceptGroupTx(batches: readonly AcceptedBatch[], isolate: boolean): GroupAcceptResult[] {
    const log = new LogAppender(this);
    const heads: DeviceHeads = new Map();
    const results: GroupAcceptResult[] = [];
    for (const b of batches) {
      if (!isolate) {
        try {
          results.push({ ok: true, leafIndex: this.acceptOneInGroup(b, heads, log) });
        } catch (err) {
          throw new BatchInGroupFailed(err);
        }
        continue;
      }
      const mark = log.mark();
      try {
        results.push({ ok: true, leafIndex: this.oneInGroupTx!(b, heads, log) });
      } catch (err) {
        log.rewind(mark);
        results.push({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    const update = this.st(
      'UPDATE devices SET next_seq = ?, head_hash = ?, max_span = MAX(max_span, ?) WHERE device_id = ?',
    );
    const spans = longestSpans(batches, results);
    for (const [deviceId, head] of heads) {
      if (head.headHash)
        update.run(head.nextSeq, head.headHash, spans.get(deviceId) ?? 0, deviceId);
    }
    return results;
  }

  private acceptOneInGroup(b: AcceptedBatch, heads: DeviceHeads, log: LogAppender): number {
    let head = heads.get(b.deviceId);
    if (!head) {
      // Read inside the transaction: a revocation either committed before it (and the batch is
      // refused here) or waits for it (and covers only later batches). Once per device and group.
      const row = this.st('SELECT next_seq, status FROM devices WHERE device_id = ?').get(
        b.deviceId,
      ) as Row | undefined;
      if (!row) throw new StoreError('not-found', `unknown device ${b.deviceId}`);
      if (row.status !== 'active')
        throw new StoreError('revoked', `device ${b.deviceId} is ${String(row.status)}`);
      head = { nextSeq: row.next_seq as number, headHash: undefined, keys: undefined };
      heads.set(b.deviceId, head);
    }
    if (b.seq !== head.nextSeq) {
      throw new StoreError('chain', `seq ${b.seq} is not the next expected ${head.nextSeq}`);
    }
    if (b.signedBy) {
      // Read inside the transaction, like the status: a rotation that committed after the
      // batch verified with the old key wins. Once per device and group.
      head.keys ??= this.keysOf(b.deviceId);
      const valid = keyForSeq(head.keys, b.seq);
      if (!valid || Buffer.compare(valid.publicKey, b.signedBy) !== 0)
        throw new StoreError(
          'key-rotated',
          `batch ${b.seq} of ${b.deviceId} is signed with a key the device rotated away from`,
        );
    }
    const n = b.sampleCount;
    if (!Number.isSafeInteger(n) || n < 0 || n >= SAMPLE_ID_SPAN)
      throw new StoreError(
        'bad-input',
        `sampleCount: expected 0 to ${SAMPLE_ID_SPAN - 1}, got ${n}`,
      );
    const leafIndex = log.append(b.logEntry, b.leafHash);
    this
      .st(
        `INSERT INTO batches (device_id, seq, hash, bytes, vin, kind, start_time, end_time,
           sample_count, received_at, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(b.deviceId, b.seq, b.hash, b.bytes, b.vin, b.kind, b.startTime, b.endTime,
        b.sampleCount, b.receivedAt, leafIndex); // prettier-ignore
    this.insertEventsAndDropsTx(b);
    if (b.wasHeld) {
      this.st('DELETE FROM held_batches WHERE device_id = ? AND seq = ?').run(b.deviceId, b.seq);
    }
    // Last, so a batch that failed above leaves the head as it was.
    head.nextSeq = b.seq + 1;
    head.headHash = b.hash;
    return leafIndex;
  }

  private insertEventsAndDropsTx(b: AcceptedBatch): void {
    if (b.events.length > 0) {
      const insertEvent = this.st(
        `INSERT INTO events (device_id, seq, vin, type, priority, start_time, end_time, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const e of b.events) {
        insertEvent.run(b.deviceId, b.seq, b.vin, e.type, e.priority, e.start, e.end, JSON.stringify(e.data)); // prettier-ignore
      }
    }
    if (b.declaredDrops.length > 0) {
      const insertDrop = this.st(
        `INSERT OR IGNORE INTO declared_drops (device_id, seq, hash, sample_count, first_time, last_time, declared_in)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const d of b.declaredDrops) {
        insertDrop.run(b.deviceId, d.seq, d.hash, d.sampleCount, d.firstTime, d.lastTime, b.seq); // prettier-ignore
      }
    }
  }

  /** Moves the chain head over a seq the device declared dropped (no batch bytes exist). */
  async skipDeclaredDrop(deviceId: string, seq: number): Promise<void> {
    this.db.transaction(() => {
      const device = this.deviceRow(deviceId);
      const drop = this.st('SELECT * FROM declared_drops WHERE device_id = ? AND seq = ?').get(
        deviceId,
        seq,
      ) as Row | undefined;
      if (!device || !drop || device.nextSeq !== seq) {
        throw new StoreError('chain', `cannot skip seq ${seq} of ${deviceId}`);
      }
      this.st('UPDATE devices SET next_seq = ?, head_hash = ? WHERE device_id = ?').run(
        seq + 1,
        drop.hash,
        deviceId,
      );
    })();
  }

  async holdBatch(h: HeldBatch): Promise<void> {
    this.st(
      'INSERT OR REPLACE INTO held_batches (device_id, seq, hash, bytes, received_at) VALUES (?, ?, ?, ?, ?)',
    ).run(h.deviceId, h.seq, h.hash, h.bytes, h.receivedAt);
  }

  async heldBatches(deviceId: string): Promise<HeldBatch[]> {
    const rows = this.st('SELECT * FROM held_batches WHERE device_id = ? ORDER BY seq').all(
      deviceId,
    ) as Row[];
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      seq: r.seq as number,
      hash: u8(r.hash),
      bytes: u8(r.bytes),
      receivedAt: r.received_at as number,
    }));
  }

  async removeHeld(deviceId: string, seq: number): Promise<void> {
    this.st('DELETE FROM held_batches WHERE device_id = ? AND seq = ?').run(deviceId, seq);
  }

  async declaredDrop(deviceId: string, seq: number): Promise<DeclaredDrop | undefined> {
    const r = this.st('SELECT * FROM declared_drops WHERE device_id = ? AND seq = ?').get(
      deviceId,
      seq,
    ) as Row | undefined;
    if (!r) return undefined;
    return toDrop(r);
  }

  async declaredDropsFrom(deviceId: string, fromSeq: number): Promise<DeclaredDrop[]> {
    const rows = this.st(
      'SELECT * FROM declared_drops WHERE device_id = ? AND seq >= ? ORDER BY seq',
    ).all(deviceId, fromSeq) as Row[];
    return rows.map(toDrop);
  }

  /** Records drops declared by a batch that is itself still held behind a gap. */
  async recordDeclaredDrops(
    deviceId: string,
    declaredIn: number,
    drops: readonly DeclaredDrop[],
  ): Promise<void> {
    const insert = this.st(
      `INSERT OR IGNORE INTO declared_drops (device_id, seq, hash, sample_count, first_time, last_time, declared_in)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const d of drops) {
        insert.run(deviceId, d.seq, d.hash, d.sampleCount, d.firstTime, d.lastTime, declaredIn);
      }
    })();
  }

  async quarantine(args: Parameters<IngestStore['quarantine']>[0]): Promise<void> {
    this.st(
      'INSERT INTO quarantine (device_id, seq, hash, bytes, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      args.deviceId ?? null,
      args.seq ?? null,
      args.hash,
      args.bytes,
      args.reason,
      args.receivedAt,
    );
  }

  async quarantined(deviceId: string): Promise<QuarantinedBatch[]> {
    const rows = this.st('SELECT * FROM quarantine WHERE device_id = ? ORDER BY seq, id').all(
      deviceId,
    ) as Row[];
    return rows.map(toQuarantined);
  }

  async recordRejection(args: Parameters<IngestStore['recordRejection']>[0]): Promise<void> {
    this.st('INSERT INTO rejections (at, device_id, code, detail) VALUES (?, ?, ?, ?)').run(
      args.at,
      args.deviceId ?? null,
      args.code,
      args.detail,
    );
  }

  async rejectionCounts(): Promise<Record<string, number>> {
    const rows = this.st('SELECT code, COUNT(*) AS n FROM rejections GROUP BY code').all() as Row[];
    return Object.fromEntries(rows.map((r) => [r.code as string, r.n as number]));
  }

  async batchesByVin(vin: string, from: number, to: number): Promise<StoredBatchRow[]> {
    const rows = this.st(`SELECT * FROM batches WHERE ${MEETS_RANGE} ORDER BY device_id, seq`).all({
      vin,
      from,
      to,
    }) as Row[];
    return rows.map(toBatch);
  }

  async batchRangeSize(vin: string, from: number, to: number): Promise<BatchRangeSize> {
    // length() of a BLOB comes from the record header: the bytes themselves are not read.
    const r = this.st(
      `SELECT COUNT(*) AS n, COALESCE(SUM(length(bytes)), 0) AS bytes FROM batches WHERE ${MEETS_RANGE}`,
    ).get({ vin, from, to }) as Row;
    return { batches: Number(r.n), bytes: Number(r.bytes) };
  }

  async eventById(id: number): Promise<StoredEvent | undefined> {
    const r = this.st('SELECT * FROM events WHERE id = ?').get(id) as Row | undefined;
    return r ? toEvent(r) : undefined;
  }

  async eventsByVin(vin: string): Promise<StoredEvent[]> {
    const rows = this.st('SELECT * FROM events WHERE vin = ? ORDER BY start_time').all(
      vin,
    ) as Row[];
    return rows.map(toEvent);
  }

  async samplesByVin(
    vin: string,
    from: number,
    to: number,
    names?: readonly string[],
  ): Promise<(StoredSample & { deviceId: string; seq: number })[]> {
    return samplesIn(
      this.sampleBatches().all({ vin, from, to }) as SampleBatchRow[],
      from,
      to,
      names,
    );
  }

  /** The batches whose time span meets [from, to], earliest start first. */
  private sampleBatches(): Database.Statement {
    return this.st(
      `SELECT device_id, seq, leaf_index, start_time, bytes FROM batches
       WHERE ${MEETS_RANGE} AND sample_count > 0 ORDER BY start_time, leaf_index`,
    );
  }

  async logSize(): Promise<number> {
    return this.logSizeTx();
  }

  async logEntry(
    leafIndex: number,
  ): Promise<{ entry: Uint8Array; leafHash: Uint8Array } | undefined> {
    const r = this.st('SELECT * FROM log_leaves WHERE leaf_index = ?').get(leafIndex) as
      Row | undefined;
    return r ? { entry: u8(r.entry), leafHash: u8(r.leaf_hash) } : undefined;
  }

  async appendLogEntry(entry: Uint8Array, leafHash: Uint8Array): Promise<number> {
    return this.db.transaction(() => this.appendLeafTx(entry, leafHash))();
  }

  async getLogNodes(ids: readonly LogNodeId[]): Promise<Uint8Array[]> {
    return ids.map((id) => this.logNodeTx(id.level, id.index));
  }

  /** A complete subtree's hash; level 0 is a leaf, whose hash log_leaves keeps. */
  logNodeTx(level: number, idx: number): Uint8Array {
    const r = (
      level === 0
        ? this.st('SELECT leaf_hash AS hash FROM log_leaves WHERE leaf_index = ?').get(idx)
        : this.st('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?').get(level, idx)
    ) as Row | undefined;
    if (!r) throw new StoreError('not-found', `log node (${level}, ${idx}) is missing`);
    return u8(r.hash);
  }

  async saveCheckpoint(row: CheckpointRow): Promise<void> {
    // This commit alone is FULL: it fsyncs the WAL, so the checkpoint and every batch under its
    // tree size (committed before the size was read) are on disk before any receipt exists.
    // When the row already exists nothing is written, and its first insert was synced so.
    this.db.pragma('synchronous = FULL');
    try {
      this.st(
        'INSERT OR IGNORE INTO checkpoints (tree_size, root, note, created_at) VALUES (?, ?, ?, ?)',
      ).run(row.treeSize, row.root, row.note, row.createdAt);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  async latestCheckpoint(): Promise<CheckpointRow | undefined> {
    const r = this.st('SELECT * FROM checkpoints ORDER BY tree_size DESC LIMIT 1').get() as
      Row | undefined;
    return r ? toCheckpoint(r) : undefined;
  }

  async checkpointAt(treeSize: number): Promise<CheckpointRow | undefined> {
    const r = this.st('SELECT * FROM checkpoints WHERE tree_size = ?').get(treeSize) as
      Row | undefined;
    return r ? toCheckpoint(r) : undefined;
  }

  async firstCheckpointAtLeast(treeSize: number): Promise<CheckpointRow | undefined> {
    const r = this.st(
      'SELECT * FROM checkpoints WHERE tree_size >= ? ORDER BY tree_size LIMIT 1',
    ).get(treeSize) as Row | undefined;
    return r ? toCheckpoint(r) : undefined;
  }

  async samplePage(q: SamplePageQuery): Promise<SamplePage> {
    const page = new SamplePageBuilder(q);
    for (const r of this.sampleBatches().iterate({ vin: q.vin, from: page.from, to: q.to }))
      if (!page.add(r as SampleBatchRow)) break;
    return page.page();
  }

  async sampleChunk(q: SampleChunkQuery): Promise<SampleChunk> {
    const after = sampleChunkStart(q);
    const rows = this.st(
      `SELECT device_id, seq, leaf_index, start_time, bytes FROM batches
       WHERE vin = ? AND (start_time, leaf_index) > (?, ?) AND sample_count > 0
       ORDER BY start_time, leaf_index LIMIT ?`,
    ).all(q.vin, after.startTime, after.leafIndex, q.batches) as SampleBatchRow[];
    return sampleChunkOf(rows, q);
  }

  async batchLeaves(vin: string, from: number, to: number): Promise<BatchLeaf[]> {
    return (
      this.st(
        `SELECT device_id, seq, leaf_index, start_time, end_time, kind FROM batches
         WHERE ${MEETS_RANGE} ORDER BY start_time, device_id, seq`,
      ).all({ vin, from, to }) as Row[]
    ).map(toBatchLeaf);
  }

  async vehicleStats(vin: string): Promise<VehicleStats> {
    // Count and first start from the index alone; the latest end among the batches that start
    // within the longest span of the latest start (no other can end later).
    const r = this.st(
      `SELECT COUNT(*) AS n, MIN(start_time) AS first,
         (SELECT MAX(end_time) FROM batches WHERE vin = :vin AND start_time >=
           (SELECT MAX(start_time) FROM batches WHERE vin = :vin)
             - (SELECT COALESCE(MAX(max_span), 0) FROM devices WHERE vin = :vin)) AS last
       FROM batches WHERE vin = :vin`,
    ).get({ vin }) as Row;
    return toVehicleStats(r);
  }

  async vehicleChanges(vin: string, afterLeafIndex: number): Promise<VehicleChanges> {
    return toVehicleChanges(
      this.st(
        `SELECT COUNT(*) AS n, MIN(start_time) AS earliest, MAX(start_time) AS latest,
           MAX(leaf_index) AS last FROM batches WHERE vin = ? AND leaf_index > ?`,
      ).get(vin, afterLeafIndex) as Row,
    );
  }

  async counts(): Promise<{ devices: number; vehicles: number; batches: number }> {
    const r = this.st(
      `SELECT (SELECT COUNT(*) FROM devices) AS devices,
              (SELECT COUNT(DISTINCT vin) FROM devices) AS vehicles,
              (SELECT COUNT(*) FROM batches) AS batches`,
    ).get() as Row;
    return {
      devices: r.devices as number,
      vehicles: r.vehicles as number,
      batches: r.batches as number,
    };
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /**
   * Appends a leaf and every complete subtree it completes, inside the caller's transaction:
   * leaf and nodes are never out of step, whatever moment the process dies.
   */
  private appendLeafTx(entry: Uint8Array, leafHash: Uint8Array): number {
    return new LogAppender(this).append(entry, leafHash);
  }

  /** Leaves are numbered 0..n-1 without gaps, so the largest index says the size in O(log n). */
  logSizeTx(): number {
    return (this.st('SELECT COALESCE(MAX(leaf_index) + 1, 0) AS n FROM log_leaves').get() as Row)
      .n as number;
  }

  /** Statements for LogAppender (same prepared-statement cache). */
  logStatements(): Record<'leaf' | 'put', Database.Statement> {
    return {
      leaf: this.st('INSERT INTO log_leaves (leaf_index, entry, leaf_hash) VALUES (?, ?, ?)'),
      put: this.st('INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)'),
    };
  }

  private deviceRow(deviceId: string): DeviceRecord | undefined {
    const r = this.st('SELECT * FROM devices WHERE device_id = ?').get(deviceId) as Row | undefined;
    return r ? this.toDevice(r) : undefined;
  }

  private keysOf(deviceId: string): DeviceKeyPeriod[] {
    const rows = this.st(
      'SELECT from_seq, public_key, leaf_index FROM device_keys WHERE device_id = ? ORDER BY from_seq',
    ).all(deviceId) as Row[];
    return rows.map((k) => ({
      publicKey: u8(k.public_key),
      fromSeq: k.from_seq as number,
      leafIndex: k.leaf_index as number,
    }));
  }

  private toDevice(r: Row): DeviceRecord {
    return toDevice(r, this.keysOf(r.device_id as string));
  }
}

/** Aborts an optimistic group transaction so it can run again with a savepoint per batch. */
class BatchInGroupFailed extends Error {
  constructor(cause: unknown) {
    super('a batch of the group failed', { cause });
  }
}

/**
 * Appends leaves and every complete subtree they complete, inside the caller's transaction:
 * leaf and nodes are never out of step, whatever moment the process dies. Lives for one
 * transaction: the size is read once and the nodes it wrote are kept, so a group of appends
 * reads a left sibling from SQLite only when an earlier transaction wrote it. Level 0 (a
 * leaf's own hash) is not written to log_nodes: log_leaves has it.
 */
class LogAppender {
  private size: number;
  private readonly written = new Map<number, Uint8Array>();
  private readonly order: number[] = [];
  private readonly sql: Record<'leaf' | 'put', Database.Statement>;

  constructor(private readonly store: SqliteIngestStore) {
    this.size = store.logSizeTx();
    this.sql = store.logStatements();
  }

  /** A node's key in `written`: indices stay below 2^47, so level fits the low 6 bits. */
  private static key(level: number, idx: number): number {
    return idx * 64 + level;
  }

  append(entry: Uint8Array, leafHash: Uint8Array): number {
    const index = this.size;
    this.sql.leaf.run(index, entry, leafHash);
    let hash = leafHash;
    let level = 0;
    let idx = index;
    this.put(level, idx, hash);
    while (idx % 2 === 1) {
      hash = nodeHash(this.get(level, idx - 1), hash);
      level++;
      idx = Math.floor(idx / 2);
      this.put(level, idx, hash);
    }
    this.size = index + 1;
    return index;
  }

  mark(): { size: number; written: number } {
    return { size: this.size, written: this.order.length };
  }

  /** Forgets what was appended since `mark` (its savepoint was rolled back). */
  rewind(mark: { size: number; written: number }): void {
    this.size = mark.size;
    for (const key of this.order.splice(mark.written)) this.written.delete(key);
  }

  private put(level: number, idx: number, hash: Uint8Array): void {
    if (level > 0) this.sql.put.run(level, idx, hash);
    const key = LogAppender.key(level, idx);
    this.written.set(key, hash);
    this.order.push(key);
  }

  private get(level: number, idx: number): Uint8Array {
    return this.written.get(LogAppender.key(level, idx)) ?? this.store.logNodeTx(level, idx);
  }
}
