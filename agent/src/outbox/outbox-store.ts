import Database from 'better-sqlite3';
import { sha256 } from '@enginechain/shared';
import { OutboxError, QuotaError } from './errors.js';
import { OUTBOX_MIGRATIONS } from './migrations.js';
import { OutboxLock } from './outbox-lock.js';

/** Why a batch exists; also its send order (trace, then event, then routine). */
export type OutboxBatchKind = 'trace' | 'event' | 'routine';

const PRIORITY: Readonly<Record<OutboxBatchKind, number>> = { trace: 0, event: 1, routine: 2 };

export interface OutboxOptions {
  /** SQLite file; created with its folder's permissions when missing. */
  readonly path: string;
  /** Lower-case hex device id (32 digits). A file serves one device: its chain is this key's. */
  readonly deviceId: string;
  /**
   * Quota on stored batch payload bytes (SQLite page and WAL overhead come on top). Routine
   * batches are evicted oldest first to stay under it; events and traces never are.
   */
  readonly quotaBytes: number;
  /** How long a batch handed out by nextToSend() stays in flight before it is handed out again. */
  readonly resendAfterMs?: number;
  /** Unix ms clock; injectable for tests. */
  readonly now?: () => number;
}

export interface ChainHead {
  /**
   * The seq the next batch must carry. Seqs are JS numbers: exact below 2^53, which at ten
   * batches a second lasts 28 million years, so no bigint.
   */
  readonly nextSeq: number;
  /** SHA-256 of the last appended batch's bytes; 32 zero bytes before seq 0. */
  readonly prevHash: Uint8Array;
}

export interface AppendBatchInput {
  readonly seq: number;
  /** SHA-256 of `bytes` (checked). */
  readonly hash: Uint8Array;
  /** The `prev` the batch was signed with; must equal chainHead().prevHash. */
  readonly prev: Uint8Array;
  /** The signed batch (COSE_Sign1), opaque here. */
  readonly bytes: Uint8Array;
  readonly kind: OutboxBatchKind;
  readonly sampleCount: number;
  /** Unix ms of the first and last sample. */
  readonly firstTime: number;
  readonly lastTime: number;
  /**
   * Seqs of the pending drops this batch's `dropped` list declares (from pendingDrops()).
   * They stop being pending in the same transaction that stores the batch.
   */
  readonly declaredDrops?: readonly number[];
}

/** A routine batch evicted by the quota, as the next batch must declare it. */
export interface DroppedBatchRecord {
  readonly seq: number;
  /** SHA-256 of the evicted bytes: the node continues the chain through it with this. */
  readonly hash: Uint8Array;
  readonly sampleCount: number;
  readonly firstTime: number;
  readonly lastTime: number;
}

export interface AppendResult {
  readonly head: ChainHead;
  /** Routine batches evicted to make room for this one (now pending drops). */
  readonly evicted: readonly DroppedBatchRecord[];
}

/** An unreceipted batch, as the transport publishes it. */
export interface OutboxBatch {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly prev: Uint8Array;
  readonly kind: OutboxBatchKind;
  readonly bytes: Uint8Array;
  readonly sampleCount: number;
  readonly firstTime: number;
  readonly lastTime: number;
  /** Unix ms when it was appended. */
  readonly storedAt: number;
}

export interface ReceiptRecord {
  readonly seq: number;
  readonly hash: Uint8Array;
  /** Leaf index in the node's log, when the caller read it from the receipt. */
  readonly logIndex: number | undefined;
  readonly receivedAt: number;
  /** The signed receipt bytes as they arrived. */
  readonly receipt: Uint8Array;
}

export type MarkReceiptedResult = 'receipted' | 'already-receipted';

export interface OutboxStats {
  /** Unreceipted batches stored. */
  readonly depth: number;
  readonly depthByKind: Readonly<Record<OutboxBatchKind, number>>;
  /** Payload bytes of unreceipted batches (what the quota counts). */
  readonly bytes: number;
  readonly quotaBytes: number;
  /** ms since the oldest unreceipted batch was stored; undefined when none is waiting. */
  readonly oldestUnreceiptedAgeMs: number | undefined;
  /** Routine batches ever evicted by the quota from this file. */
  readonly evictionsTotal: number;
  readonly pendingDrops: number;
  /** Unix ms of the last markReceipted() that stored a receipt; undefined before the first. */
  readonly lastReceiptAt: number | undefined;
  /** Batches handed out by nextToSend() whose resend timeout has not passed. */
  readonly inFlight: number;
}

const HASH_BYTES = 32;
const ZERO_HASH = new Uint8Array(HASH_BYTES);
const DEVICE_ID = /^[0-9a-f]{32}$/;
const DEFAULT_RESEND_AFTER_MS = 60_000;
const MAX_SEND_LIMIT = 10_000;

interface ChainRow {
  device_id: string;
  next_seq: number;
  prev_hash: Buffer;
  stored_bytes: number;
  evictions_total: number;
  last_receipt_at: number | null;
}

interface BatchRow {
  seq: number;
  hash: Buffer;
  prev: Buffer;
  kind: OutboxBatchKind;
  size: number;
  sample_count: number;
  first_time: number;
  last_time: number;
  stored_at: number;
}

interface DropRow {
  seq: number;
  hash: Buffer;
  sample_count: number;
  first_time: number;
  last_time: number;
  declared_in: number | null;
}

interface ReceiptRow {
  seq: number;
  hash: Buffer;
  log_index: number | null;
  received_at: number;
  receipt: Buffer;
}

/**
 * The agent's durable outbox: every signed batch stays here until the ingestion node's
 * verified receipt for it arrives, across SIGKILL and power cuts.
 *
 * Durability: WAL with synchronous=FULL, so each append is fsynced before appendBatch()
 * returns. NORMAL would survive SIGKILL but may roll back the last commits on power loss; a
 * batch already published and then rolled back would make the agent sign a different batch
 * under the same seq after reboot, which the node must treat as a fork. One fsync per batch
 * (one every few seconds) costs nothing in comparison.
 *
 * All methods are synchronous (better-sqlite3) and throw OutboxError; one process appends.
 */
export class OutboxStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly resendAfterMs: number;
  /** seq → unix ms after which nextToSend() may hand it out again. Memory only on purpose. */
  private readonly inFlight = new Map<number, number>();
  /**
   * Where the last nextToSend() stopped in send order. Every batch before it is in flight, so
   * the next call starts there instead of skipping a long in-flight prefix again (draining a
   * backlog of n batches would otherwise cost O(n²)). Reset when that stops being true: a
   * release, a resend timeout passing, a batch stored ahead of it.
   */
  private cursor: { priority: number; seq: number } | undefined;
  private earliestDeadline = Infinity;
  private readonly stmt: ReturnType<OutboxStore['prepare']>;

  private constructor(
    db: Database.Database,
    private readonly lock: OutboxLock,
    readonly deviceId: string,
    readonly quotaBytes: number,
    resendAfterMs: number,
    now: () => number,
  ) {
    this.db = db;
    this.now = now;
    this.resendAfterMs = resendAfterMs;
    this.stmt = this.prepare();
  }

  /** Opens (creating or migrating) the outbox file. */
  static open(options: OutboxOptions): OutboxStore {
    if (typeof options?.path !== 'string' || options.path.length === 0)
      throw new OutboxError('bad-input', 'path: expected a file path');
    if (typeof options.deviceId !== 'string' || !DEVICE_ID.test(options.deviceId))
      throw new OutboxError('bad-input', 'deviceId: expected 32 lower-case hex digits');
    if (!Number.isSafeInteger(options.quotaBytes) || options.quotaBytes <= 0)
      throw new OutboxError('bad-input', 'quotaBytes: expected a positive integer');
    const resendAfterMs = options.resendAfterMs ?? DEFAULT_RESEND_AFTER_MS;
    if (!Number.isSafeInteger(resendAfterMs) || resendAfterMs <= 0)
      throw new OutboxError('bad-input', 'resendAfterMs: expected a positive integer');
    if (options.now !== undefined && typeof options.now !== 'function')
      throw new OutboxError('bad-input', 'now: expected a function');

    const lock = OutboxLock.acquire(options.path);
    let db: Database.Database;
    try {
      db = new Database(options.path);
    } catch (err) {
      lock.release();
      throw storageError(err, `cannot open ${options.path}`);
    }
    try {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new OutboxError('storage', `${options.path}: WAL mode refused`);
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      // Batches are written once and read back once, when sent: SQLite's default 2 MB page
      // cache would mostly hold pages already on their way out, in a board's scarce RAM.
      db.pragma('cache_size = -512');
      migrate(db, options.path);
      const row = db.prepare('SELECT device_id FROM chain WHERE id = 1').get() as
        { device_id: string } | undefined;
      if (row === undefined) {
        db.prepare(
          'INSERT INTO chain (id, device_id, next_seq, prev_hash) VALUES (1, ?, 0, ?)',
        ).run(options.deviceId, ZERO_HASH);
      } else if (row.device_id !== options.deviceId) {
        throw new OutboxError(
          'wrong-device',
          `${options.path} holds the chain of device ${row.device_id}, not ${options.deviceId}`,
        );
      }
    } catch (err) {
      db.close();
      lock.release();
      throw err instanceof OutboxError ? err : storageError(err, `cannot open ${options.path}`);
    }
    return new OutboxStore(
      db,
      lock,
      options.deviceId,
      options.quotaBytes,
      resendAfterMs,
      options.now ?? Date.now,
    );
  }

  private prepare() {
    const db = this.db;
    return {
      chain: db.prepare('SELECT * FROM chain WHERE id = 1'),
      advance: db.prepare(
        'UPDATE chain SET next_seq = ?, prev_hash = ?, stored_bytes = stored_bytes + ? WHERE id = 1',
      ),
      insertBatch: db.prepare(
        `INSERT INTO batches (seq, hash, prev, kind, priority, size, sample_count, first_time,
           last_time, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertPayload: db.prepare('INSERT INTO payloads (seq, bytes) VALUES (?, ?)'),
      batch: db.prepare('SELECT * FROM batches WHERE seq = ?'),
      payload: db.prepare('SELECT bytes FROM payloads WHERE seq = ?').pluck(),
      deleteBatch: db.prepare('DELETE FROM batches WHERE seq = ?'),
      deletePayload: db.prepare('DELETE FROM payloads WHERE seq = ?'),
      sendOrder: db.prepare('SELECT * FROM batches ORDER BY priority, seq'),
      // The send order after a cursor, as two index ranges (SQLite would range-scan a row
      // value comparison on priority only).
      samePriorityAfter: db.prepare(
        'SELECT * FROM batches WHERE priority = ? AND seq > ? ORDER BY seq',
      ),
      lowerPriorities: db.prepare(
        'SELECT * FROM batches WHERE priority > ? ORDER BY priority, seq',
      ),
      oldestRoutine: db.prepare("SELECT * FROM batches WHERE kind = 'routine' ORDER BY seq"),
      insertDrop: db.prepare(
        `INSERT INTO drops (seq, hash, sample_count, first_time, last_time, evicted_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      drop: db.prepare('SELECT * FROM drops WHERE seq = ?'),
      pendingDrops: db.prepare('SELECT * FROM drops WHERE declared_in IS NULL ORDER BY seq'),
      declareDrop: db.prepare(
        'UPDATE drops SET declared_in = ? WHERE seq = ? AND declared_in IS NULL',
      ),
      // A drop declared by a batch that is itself evicted must be declared again.
      undeclareDrops: db.prepare('UPDATE drops SET declared_in = NULL WHERE declared_in = ?'),
      evicted: db.prepare(
        'UPDATE chain SET stored_bytes = stored_bytes - ?, evictions_total = evictions_total + 1 WHERE id = 1',
      ),
      receipt: db.prepare('SELECT * FROM receipts WHERE seq = ?'),
      insertReceipt: db.prepare(
        'INSERT INTO receipts (seq, hash, log_index, received_at, receipt) VALUES (?, ?, ?, ?, ?)',
      ),
      receipted: db.prepare(
        'UPDATE chain SET stored_bytes = stored_bytes - ?, last_receipt_at = ? WHERE id = 1',
      ),
      receiptSeen: db.prepare('UPDATE chain SET last_receipt_at = ? WHERE id = 1'),
      depthByKind: db.prepare('SELECT kind, count(*) AS n FROM batches GROUP BY kind'),
      oldest: db.prepare('SELECT stored_at FROM batches ORDER BY seq LIMIT 1').pluck(),
      pendingDropCount: db.prepare('SELECT count(*) FROM drops WHERE declared_in IS NULL').pluck(),
      pruneReceipts: db.prepare('DELETE FROM receipts WHERE received_at < ?'),
    };
  }

  /** The seq and prev the next batch must be signed with. */
  chainHead(): ChainHead {
    return this.guard(() => {
      const c = this.chainRow();
      return { nextSeq: c.next_seq, prevHash: bytesOf(c.prev_hash) };
    });
  }

  /**
   * Stores a signed batch and advances the chain head to (seq + 1, hash) in one transaction,
   * evicting the oldest routine batches first when the quota needs room. Refuses (nothing
   * changed) a seq other than nextSeq, a prev other than prevHash, a hash that is not the
   * SHA-256 of the bytes, and a routine batch that does not fit even after evicting every
   * other routine batch (QuotaError). Event and trace batches are always stored: when
   * evicting all routine batches is not enough, they go over the quota.
   */
  appendBatch(input: AppendBatchInput): AppendResult {
    checkAppendInput(input);
    if (!equalBytes(sha256(input.bytes), input.hash))
      throw new OutboxError('hash-mismatch', `hash: not the SHA-256 of bytes (seq ${input.seq})`);
    const evicted: DroppedBatchRecord[] = [];
    this.guard(() =>
      this.db
        .transaction(() => {
          const c = this.chainRow();
          if (input.seq !== c.next_seq) {
            throw new OutboxError(
              'out-of-sequence',
              `seq: expected ${c.next_seq}, got ${input.seq}`,
            );
          }
          if (!equalBytes(input.prev, c.prev_hash)) {
            throw new OutboxError(
              'broken-chain',
              `prev: seq ${input.seq} does not chain to the hash of seq ${c.next_seq - 1}`,
            );
          }
          for (const seq of input.declaredDrops ?? []) {
            if (this.stmt.declareDrop.run(input.seq, seq).changes !== 1) {
              throw new OutboxError(
                'unknown-drop',
                `declaredDrops: seq ${seq} is not a pending drop`,
              );
            }
          }
          const size = input.bytes.length;
          const over = c.stored_bytes + size - this.quotaBytes;
          if (over > 0) evicted.push(...this.evictRoutine(over, input));
          this.stmt.insertBatch.run(
            input.seq,
            input.hash,
            input.prev,
            input.kind,
            PRIORITY[input.kind],
            size,
            input.sampleCount,
            input.firstTime,
            input.lastTime,
            this.now(),
          );
          this.stmt.insertPayload.run(input.seq, input.bytes);
          this.stmt.advance.run(input.seq + 1, input.hash, size);
        })
        .immediate(),
    );
    for (const e of evicted) this.inFlight.delete(e.seq);
    // A batch that sorts before the cursor (a trace while routine ones are going out).
    if (this.cursor !== undefined && PRIORITY[input.kind] < this.cursor.priority) {
      this.cursor = undefined;
    }
    return { head: { nextSeq: input.seq + 1, prevHash: input.hash.slice() }, evicted };
  }

  /** Inside the append transaction: frees at least `need` bytes of routine batches, oldest first. */
  private evictRoutine(need: number, input: AppendBatchInput): DroppedBatchRecord[] {
    const victims: BatchRow[] = [];
    let freed = 0;
    for (const row of this.stmt.oldestRoutine.iterate() as Iterable<BatchRow>) {
      if (freed >= need) break;
      victims.push(row);
      freed += row.size;
    }
    if (freed < need && input.kind === 'routine') {
      throw new QuotaError(
        `routine batch seq ${input.seq} (${input.bytes.length} bytes) does not fit in the ` +
          `${this.quotaBytes}-byte quota even after evicting every routine batch`,
        need - freed,
      );
    }
    const at = this.now();
    return victims.map((v) => {
      this.stmt.deleteBatch.run(v.seq);
      this.stmt.deletePayload.run(v.seq);
      this.stmt.insertDrop.run(v.seq, v.hash, v.sample_count, v.first_time, v.last_time, at);
      this.stmt.undeclareDrops.run(v.seq);
      this.stmt.evicted.run(v.size);
      return {
        seq: v.seq,
        hash: bytesOf(v.hash),
        sampleCount: v.sample_count,
        firstTime: v.first_time,
        lastTime: v.last_time,
      };
    });
  }

  /**
   * Evicted batches no stored batch declares yet, by seq. The next batch puts them in its
   * `dropped` list and passes their seqs as `declaredDrops` to appendBatch(); until then
   * they stay pending (a crash between the two loses nothing).
   */
  pendingDrops(): DroppedBatchRecord[] {
    return this.guard(() =>
      (this.stmt.pendingDrops.all() as DropRow[]).map((d) => ({
        seq: d.seq,
        hash: bytesOf(d.hash),
        sampleCount: d.sample_count,
        firstTime: d.first_time,
        lastTime: d.last_time,
      })),
    );
  }

  /**
   * Up to `limit` unreceipted batches to publish: traces, then events, then routine, each by
   * seq. They are marked in flight and not handed out again until resendAfterMs has passed
   * or releaseInFlight() releases them. The marks live in memory: after a restart everything
   * unreceipted is sent again (the node answers a duplicate with its receipt).
   */
  nextToSend(limit: number): OutboxBatch[] {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SEND_LIMIT)
      throw new OutboxError('bad-input', `limit: expected an integer in 1..${MAX_SEND_LIMIT}`);
    return this.guard(() => {
      const now = this.now();
      if (now >= this.earliestDeadline) this.expireInFlight(now);
      const picked: BatchRow[] = [];
      let last: BatchRow | undefined;
      for (const row of this.sendOrderAfterCursor()) {
        last = row;
        const until = this.inFlight.get(row.seq);
        if (until !== undefined && until > now) continue;
        picked.push(row);
        if (picked.length === limit) break;
      }
      if (last !== undefined) this.cursor = { priority: PRIORITY[last.kind], seq: last.seq };
      const until = now + this.resendAfterMs;
      this.earliestDeadline = Math.min(this.earliestDeadline, until);
      return picked.map((row) => {
        this.inFlight.set(row.seq, until);
        const bytes = this.stmt.payload.get(row.seq) as Buffer;
        return { ...batchOf(row), bytes: bytesOf(bytes) };
      });
    });
  }

  private *sendOrderAfterCursor(): Generator<BatchRow> {
    const c = this.cursor;
    if (c === undefined) {
      yield* this.stmt.sendOrder.iterate() as Iterable<BatchRow>;
      return;
    }
    yield* this.stmt.samePriorityAfter.iterate(c.priority, c.seq) as Iterable<BatchRow>;
    yield* this.stmt.lowerPriorities.iterate(c.priority) as Iterable<BatchRow>;
  }

  /** Forgets in-flight marks whose resend timeout passed; they are due again from the start. */
  private expireInFlight(now: number): void {
    this.earliestDeadline = Infinity;
    for (const [seq, until] of this.inFlight) {
      if (until <= now) this.inFlight.delete(seq);
      else this.earliestDeadline = Math.min(this.earliestDeadline, until);
    }
    this.cursor = undefined;
  }

  /**
   * Makes batches eligible for nextToSend() again before their resend timeout: the given
   * seqs (a resend request, a failed publish) or, without an argument, all of them (a new
   * connection on which the broker kept no session).
   */
  releaseInFlight(seqs?: readonly number[]): void {
    if (seqs !== undefined && !Array.isArray(seqs))
      throw new OutboxError('bad-input', 'seqs: expected an array');
    if (seqs === undefined) this.inFlight.clear();
    else for (const seq of seqs) this.inFlight.delete(seq);
    this.cursor = undefined;
  }

  /**
   * Records that the node's signed receipt for (seq, hash) arrived; the CALLER has verified
   * it. Deletes the batch bytes and keeps a receipt row (seq, hash, log index, time, receipt
   * bytes). A second call for the same seq and hash changes nothing and returns
   * 'already-receipted'. A hash that differs from the stored batch, receipt or drop throws
   * 'hash-mismatch' and changes nothing; a seq never stored throws 'unknown-batch'. A receipt
   * for an evicted batch (published before eviction) is kept too.
   */
  markReceipted(
    seq: number,
    hash: Uint8Array,
    receiptBytes: Uint8Array,
    details: { readonly logIndex?: number } = {},
  ): MarkReceiptedResult {
    checkSeq(seq, 'seq');
    checkHash(hash, 'hash');
    if (!(receiptBytes instanceof Uint8Array) || receiptBytes.length === 0)
      throw new OutboxError('bad-input', 'receiptBytes: expected non-empty bytes');
    const logIndex = details?.logIndex;
    if (logIndex !== undefined && (!Number.isSafeInteger(logIndex) || logIndex < 0))
      throw new OutboxError('bad-input', 'details.logIndex: expected an integer ≥ 0');

    const result = this.guard(() =>
      this.db
        .transaction((): MarkReceiptedResult => {
          const now = this.now();
          const mismatch = (what: string) =>
            new OutboxError('hash-mismatch', `hash: differs from the ${what} for seq ${seq}`);
          const done = this.stmt.receipt.get(seq) as ReceiptRow | undefined;
          if (done !== undefined) {
            if (!equalBytes(hash, done.hash)) throw mismatch('receipted batch');
            return 'already-receipted';
          }
          const row = this.stmt.batch.get(seq) as BatchRow | undefined;
          if (row !== undefined) {
            if (!equalBytes(hash, row.hash)) throw mismatch('stored batch');
            this.stmt.deleteBatch.run(seq);
            this.stmt.deletePayload.run(seq);
            this.stmt.insertReceipt.run(seq, hash, logIndex ?? null, now, receiptBytes);
            this.stmt.receipted.run(row.size, now);
            return 'receipted';
          }
          const dropped = this.stmt.drop.get(seq) as DropRow | undefined;
          if (dropped !== undefined) {
            if (!equalBytes(hash, dropped.hash)) throw mismatch('evicted batch');
            // The drop stays declared or pending: the node records a declared drop of a seq
            // it already logged and moves on, while un-declaring it here could race with a
            // batch being signed with it in its dropped list.
            this.stmt.insertReceipt.run(seq, hash, logIndex ?? null, now, receiptBytes);
            this.stmt.receiptSeen.run(now);
            return 'receipted';
          }
          throw new OutboxError('unknown-batch', `seq: ${seq} was never stored in this outbox`);
        })
        .immediate(),
    );
    this.inFlight.delete(seq);
    return result;
  }

  /** The stored receipt of a seq, or undefined when none is (yet). */
  receiptOf(seq: number): ReceiptRecord | undefined {
    checkSeq(seq, 'seq');
    return this.guard(() => {
      const r = this.stmt.receipt.get(seq) as ReceiptRow | undefined;
      if (r === undefined) return undefined;
      return {
        seq: r.seq,
        hash: bytesOf(r.hash),
        logIndex: r.log_index ?? undefined,
        receivedAt: r.received_at,
        receipt: bytesOf(r.receipt),
      };
    });
  }

  /**
   * Deletes receipt rows received before `receivedBefore` (unix ms); returns how many. Receipts
   * are a few kB each and the disk is small: the agent keeps them only as long as it is
   * useful to show them. The chain head does not depend on them.
   */
  pruneReceipts(receivedBefore: number): number {
    if (!Number.isSafeInteger(receivedBefore))
      throw new OutboxError('bad-input', 'receivedBefore: expected unix ms');
    return this.guard(() => this.stmt.pruneReceipts.run(receivedBefore).changes);
  }

  stats(): OutboxStats {
    return this.guard(() => {
      const c = this.chainRow();
      const depthByKind = { trace: 0, event: 0, routine: 0 };
      for (const r of this.stmt.depthByKind.all() as { kind: OutboxBatchKind; n: number }[]) {
        depthByKind[r.kind] = r.n;
      }
      const oldest = this.stmt.oldest.get() as number | undefined;
      const now = this.now();
      let inFlight = 0;
      for (const until of this.inFlight.values()) if (until > now) inFlight++;
      return {
        depth: depthByKind.trace + depthByKind.event + depthByKind.routine,
        depthByKind,
        bytes: c.stored_bytes,
        quotaBytes: this.quotaBytes,
        oldestUnreceiptedAgeMs: oldest === undefined ? undefined : Math.max(0, now - oldest),
        evictionsTotal: c.evictions_total,
        pendingDrops: this.stmt.pendingDropCount.get() as number,
        lastReceiptAt: c.last_receipt_at ?? undefined,
        inFlight,
      };
    });
  }

  /** Closes the file. Idempotent; every other method then throws 'closed'. */
  close(): void {
    if (this.db.open) {
      this.db.close();
      this.lock.release();
    }
    this.inFlight.clear();
    this.cursor = undefined;
  }

  private chainRow(): ChainRow {
    return this.stmt.chain.get() as ChainRow;
  }

  private guard<T>(fn: () => T): T {
    if (!this.db.open) throw new OutboxError('closed');
    try {
      return fn();
    } catch (err) {
      if (err instanceof OutboxError) throw err;
      throw storageError(err, 'outbox');
    }
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > OUTBOX_MIGRATIONS.length) {
    throw new OutboxError(
      'schema-too-new',
      `${path} has schema version ${version}; this agent knows up to ${OUTBOX_MIGRATIONS.length}`,
    );
  }
  for (let v = version; v < OUTBOX_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(OUTBOX_MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

function storageError(err: unknown, what: string): OutboxError {
  const code = (err as { code?: unknown })?.code;
  const detail = err instanceof Error ? err.message : String(err);
  return new OutboxError(
    'storage',
    `${what}: ${typeof code === 'string' ? `${code}: ` : ''}${detail}`,
    {
      cause: err,
    },
  );
}

function checkAppendInput(input: AppendBatchInput): void {
  if (typeof input !== 'object' || input === null)
    throw new OutboxError('bad-input', 'input: expected an object');
  checkSeq(input.seq, 'seq');
  checkHash(input.hash, 'hash');
  checkHash(input.prev, 'prev');
  if (!(input.bytes instanceof Uint8Array) || input.bytes.length === 0)
    throw new OutboxError('bad-input', 'bytes: expected non-empty bytes');
  if (!Object.hasOwn(PRIORITY, input.kind))
    throw new OutboxError('bad-input', "kind: expected 'trace', 'event' or 'routine'");
  if (!Number.isSafeInteger(input.sampleCount) || input.sampleCount < 0)
    throw new OutboxError('bad-input', 'sampleCount: expected an integer ≥ 0');
  if (!Number.isSafeInteger(input.firstTime))
    throw new OutboxError('bad-input', 'firstTime: expected unix ms (integer)');
  if (!Number.isSafeInteger(input.lastTime) || input.lastTime < input.firstTime)
    throw new OutboxError('bad-input', 'lastTime: expected unix ms (integer) ≥ firstTime');
  if (input.declaredDrops !== undefined) {
    if (!Array.isArray(input.declaredDrops))
      throw new OutboxError('bad-input', 'declaredDrops: expected an array of seqs');
    input.declaredDrops.forEach((s, i) => checkSeq(s, `declaredDrops[${i}]`));
    if (new Set(input.declaredDrops).size !== input.declaredDrops.length)
      throw new OutboxError('bad-input', 'declaredDrops: a seq appears twice');
  }
}

function checkSeq(seq: unknown, field: string): void {
  if (!Number.isSafeInteger(seq) || (seq as number) < 0)
    throw new OutboxError('bad-input', `${field}: expected an integer in 0..2^53-1`);
}

function checkHash(hash: unknown, field: string): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES)
    throw new OutboxError('bad-input', `${field}: expected ${HASH_BYTES} bytes`);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A plain Uint8Array copy of a Buffer that better-sqlite3 returned. */
function bytesOf(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf);
}

function batchOf(row: BatchRow): Omit<OutboxBatch, 'bytes'> {
  return {
    seq: row.seq,
    hash: bytesOf(row.hash),
    prev: bytesOf(row.prev),
    kind: row.kind,
    sampleCount: row.sample_count,
    firstTime: row.first_time,
    lastTime: row.last_time,
    storedAt: row.stored_at,
  };
}
