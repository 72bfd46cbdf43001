import Database from 'better-sqlite3';
import { leafHash, nodeHash } from '@enginechain/shared';
import { MIGRATIONS } from './migrations.js';
import type {
  AcceptedBatch,
  CheckpointRow,
  DeclaredDrop,
  DeviceRecord,
  EnrolmentToken,
  HeldBatch,
  IngestStore,
  LogNodeId,
  StoredBatchRow,
  StoredEvent,
  StoredSample,
} from './ingest-store.js';

type Row = Record<string, unknown>;
const u8 = (b: unknown): Uint8Array => new Uint8Array(b as Buffer);
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: 'chain' | 'schema' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The node's SQLite store: one file, WAL, synchronous=NORMAL with a group sync before every
 * signed checkpoint. A receipt is a promise that a batch is logged and goes out only after a
 * checkpoint covers it; `saveCheckpoint` first runs a WAL checkpoint, which fsyncs every commit
 * before it, so everything receipted survives a power cut without paying one fsync per batch.
 * (SIGKILL alone never loses a WAL commit.)
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
  }

  /**
   * The open connection, for stores of other concerns that share this file and its
   * transactions (users and grants live beside the log they write to).
   */
  get database(): Database.Database {
    return this.db;
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
    ).run(buf(t.tokenHash), t.vin, t.owner ?? null, t.createdAt, t.expiresAt);
  }

  async registerDevice(args: {
    tokenHash: Uint8Array;
    deviceId: string;
    publicKey: Uint8Array;
    vinSalt: Uint8Array;
    now: number;
    logEntry: (vin: string) => Uint8Array;
  }): ReturnType<IngestStore['registerDevice']> {
    return this.db.transaction(() => {
      const token = this.st('SELECT * FROM enrolment_tokens WHERE token_hash = ?').get(
        buf(args.tokenHash),
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
        buf(args.tokenHash),
      );
      this.st(
        `INSERT INTO devices (device_id, public_key, vin, vin_salt, owner, status, registered_at, next_seq, head_hash)
           VALUES (?, ?, ?, ?, ?, 'active', ?, 0, ?)`,
      ).run(
        args.deviceId,
        buf(args.publicKey),
        token.vin,
        buf(args.vinSalt),
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
    return (rows as Row[]).map(toDevice);
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
      ).run(deviceId, buf(nonce), expiresAt);
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

  async acceptBatch(b: AcceptedBatch): Promise<{ leafIndex: number }> {
    return this.db.transaction(() => {
      const device = this.deviceRow(b.deviceId);
      if (!device) throw new StoreError('not-found', `unknown device ${b.deviceId}`);
      if (b.seq !== device.nextSeq) {
        throw new StoreError('chain', `seq ${b.seq} is not the next expected ${device.nextSeq}`);
      }
      const leafIndex = this.appendLeafTx(b.logEntry, b.leafHash);
      this
        .st(
          `INSERT INTO batches (device_id, seq, hash, bytes, vin, kind, start_time, end_time,
             sample_count, received_at, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(b.deviceId, b.seq, buf(b.hash), buf(b.bytes), b.vin, b.kind, b.startTime, b.endTime,
          b.samples.length, b.receivedAt, leafIndex); // prettier-ignore
      const insertSample = this.st(
        'INSERT INTO samples (device_id, seq, vin, name, time, value_num, value_text, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const s of b.samples) {
        const num =
          typeof s.value === 'number'
            ? s.value
            : typeof s.value === 'boolean'
              ? Number(s.value)
              : null;
        const text = typeof s.value === 'string' ? s.value : null;
        insertSample.run(b.deviceId, b.seq, b.vin, s.name, s.time, num, text, s.unit);
      }
      const insertEvent = this.st(
        `INSERT INTO events (device_id, seq, vin, type, priority, start_time, end_time, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const e of b.events) {
        insertEvent.run(
          b.deviceId,
          b.seq,
          b.vin,
          e.type,
          e.priority,
          e.start,
          e.end,
          JSON.stringify(e.data),
        );
      }
      const insertDrop = this.st(
        `INSERT OR IGNORE INTO declared_drops (device_id, seq, hash, sample_count, first_time, last_time, declared_in)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const d of b.declaredDrops) {
        insertDrop.run(
          b.deviceId,
          d.seq,
          buf(d.hash),
          d.sampleCount,
          d.firstTime,
          d.lastTime,
          b.seq,
        );
      }
      this.st('UPDATE devices SET next_seq = ?, head_hash = ? WHERE device_id = ?').run(
        b.seq + 1,
        buf(b.hash),
        b.deviceId,
      );
      this.st('DELETE FROM held_batches WHERE device_id = ? AND seq = ?').run(b.deviceId, b.seq);
      return { leafIndex };
    })();
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
    ).run(h.deviceId, h.seq, buf(h.hash), buf(h.bytes), h.receivedAt);
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
    return {
      seq: r.seq as number,
      hash: u8(r.hash),
      sampleCount: r.sample_count as number,
      firstTime: r.first_time as number,
      lastTime: r.last_time as number,
    };
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
        insert.run(
          deviceId,
          d.seq,
          buf(d.hash),
          d.sampleCount,
          d.firstTime,
          d.lastTime,
          declaredIn,
        );
      }
    })();
  }

  async quarantine(args: {
    deviceId?: string;
    seq?: number;
    hash: Uint8Array;
    bytes: Uint8Array;
    reason: string;
    receivedAt: number;
  }): Promise<void> {
    this.st(
      'INSERT INTO quarantine (device_id, seq, hash, bytes, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      args.deviceId ?? null,
      args.seq ?? null,
      buf(args.hash),
      buf(args.bytes),
      args.reason,
      args.receivedAt,
    );
  }

  async recordRejection(args: {
    at: number;
    deviceId?: string;
    code: string;
    detail: string;
  }): Promise<void> {
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
    const rows = this.st(
      'SELECT * FROM batches WHERE vin = ? AND end_time >= ? AND start_time <= ? ORDER BY device_id, seq',
    ).all(vin, from, to) as Row[];
    return rows.map(toBatch);
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
  ): Promise<(StoredSample & { deviceId: string; seq: number })[]> {
    const rows = this.st(
      'SELECT * FROM samples WHERE vin = ? AND time >= ? AND time <= ? ORDER BY time',
    ).all(vin, from, to) as Row[];
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      seq: r.seq as number,
      name: r.name as string,
      time: r.time as number,
      value: r.value_text !== null ? (r.value_text as string) : (r.value_num as number),
      unit: r.unit as string,
    }));
  }

  async logSize(): Promise<number> {
    return (this.st('SELECT COUNT(*) AS n FROM log_leaves').get() as Row).n as number;
  }

  async logEntry(
    leafIndex: number,
  ): Promise<{ entry: Uint8Array; leafHash: Uint8Array } | undefined> {
    const r = this.st('SELECT * FROM log_leaves WHERE leaf_index = ?').get(leafIndex) as
      Row | undefined;
    return r ? { entry: u8(r.entry), leafHash: u8(r.leaf_hash) } : undefined;
  }

  async appendLogEntry(
    entry: Uint8Array,
    leafHash: Uint8Array,
    alongside?: (leafIndex: number) => void,
  ): Promise<number> {
    return this.db.transaction(() => {
      const leafIndex = this.appendLeafTx(entry, leafHash);
      alongside?.(leafIndex);
      return leafIndex;
    })();
  }

  async getLogNodes(ids: readonly LogNodeId[]): Promise<Uint8Array[]> {
    const get = this.st('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?');
    return ids.map((id) => {
      const r = get.get(id.level, id.index) as Row | undefined;
      if (!r) throw new StoreError('not-found', `log node (${id.level}, ${id.index}) is missing`);
      return u8(r.hash);
    });
  }

  async saveCheckpoint(row: CheckpointRow): Promise<void> {
    // In WAL mode with synchronous=NORMAL a checkpoint fsyncs the WAL: every batch under this
    // tree size is on disk before the checkpoint (and so any receipt) exists.
    this.db.pragma('wal_checkpoint(PASSIVE)');
    this.st(
      'INSERT OR IGNORE INTO checkpoints (tree_size, root, note, created_at) VALUES (?, ?, ?, ?)',
    ).run(row.treeSize, buf(row.root), row.note, row.createdAt);
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

  async close(): Promise<void> {
    this.db.close();
  }

  /**
   * Appends a leaf and every complete subtree it completes, inside the caller's transaction:
   * leaf and nodes are never out of step, whatever moment the process dies.
   */
  private appendLeafTx(entry: Uint8Array, leafHash: Uint8Array): number {
    const index = (this.st('SELECT COUNT(*) AS n FROM log_leaves').get() as Row).n as number;
    this.st('INSERT INTO log_leaves (leaf_index, entry, leaf_hash) VALUES (?, ?, ?)').run(
      index,
      buf(entry),
      buf(leafHash),
    );
    const put = this.st('INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)');
    const get = this.st('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?');
    let hash = leafHash;
    let level = 0;
    let idx = index;
    put.run(level, idx, buf(hash));
    while (idx % 2 === 1) {
      const left = get.get(level, idx - 1) as Row | undefined;
      if (!left) throw new StoreError('not-found', `log node (${level}, ${idx - 1}) is missing`);
      hash = nodeHash(u8(left.hash), hash);
      level++;
      idx = Math.floor(idx / 2);
      put.run(level, idx, buf(hash));
    }
    return index;
  }

  private deviceRow(deviceId: string): DeviceRecord | undefined {
    const r = this.st('SELECT * FROM devices WHERE device_id = ?').get(deviceId) as Row | undefined;
    return r ? toDevice(r) : undefined;
  }
}

function toDevice(r: Row): DeviceRecord {
  return {
    deviceId: r.device_id as string,
    publicKey: u8(r.public_key),
    vin: r.vin as string,
    vinSalt: u8(r.vin_salt),
    owner: (r.owner as string | null) ?? undefined,
    status: r.status as 'active' | 'revoked',
    registeredAt: r.registered_at as number,
    registrationLeaf: r.registration_leaf as number,
    nextSeq: r.next_seq as number,
    headHash: u8(r.head_hash),
  };
}

function toBatch(r: Row): StoredBatchRow {
  return {
    deviceId: r.device_id as string,
    seq: r.seq as number,
    hash: u8(r.hash),
    bytes: u8(r.bytes),
    vin: r.vin as string,
    kind: r.kind as string,
    startTime: r.start_time as number,
    endTime: r.end_time as number,
    receivedAt: r.received_at as number,
    leafIndex: r.leaf_index as number,
  };
}

function toEvent(r: Row): StoredEvent {
  return {
    id: r.id as number,
    deviceId: r.device_id as string,
    seq: r.seq as number,
    vin: r.vin as string,
    type: r.type as string,
    priority: r.priority as string,
    start: r.start_time as number,
    end: r.end_time as number,
    data: JSON.parse(r.data as string) as Record<string, unknown>,
  };
}

function toCheckpoint(r: Row): CheckpointRow {
  return {
    treeSize: r.tree_size as number,
    root: u8(r.root),
    note: r.note as string,
    createdAt: r.created_at as number,
  };
}
