/**
 * Versioned schema of the outbox file. Entry i moves a file from version i to i + 1 inside
 * one transaction, and PRAGMA user_version records where a file is. Never edit a released
 * migration: add the next one.
 */
export const OUTBOX_MIGRATIONS: readonly string[] = [
  // 1: chain head, unreceipted batches (metadata apart from payloads so ordering and quota
  // queries never read blobs), receipts, evicted batches.
  `
  CREATE TABLE chain (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    device_id       TEXT NOT NULL,
    next_seq        INTEGER NOT NULL CHECK (next_seq >= 0),
    prev_hash       BLOB NOT NULL CHECK (length(prev_hash) = 32),
    -- Sum of payloads.bytes lengths, kept in the same transactions as the rows.
    stored_bytes    INTEGER NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0),
    evictions_total INTEGER NOT NULL DEFAULT 0,
    last_receipt_at INTEGER
  );
  CREATE TABLE batches (
    seq          INTEGER PRIMARY KEY,
    hash         BLOB NOT NULL CHECK (length(hash) = 32),
    prev         BLOB NOT NULL CHECK (length(prev) = 32),
    kind         TEXT NOT NULL CHECK (kind IN ('trace', 'event', 'routine')),
    -- Send order: 0 trace, 1 event, 2 routine.
    priority     INTEGER NOT NULL CHECK (priority IN (0, 1, 2)),
    size         INTEGER NOT NULL CHECK (size > 0),
    sample_count INTEGER NOT NULL,
    first_time   INTEGER NOT NULL,
    last_time    INTEGER NOT NULL,
    stored_at    INTEGER NOT NULL
  );
  CREATE INDEX batches_send_order ON batches (priority, seq);
  CREATE TABLE payloads (
    seq   INTEGER PRIMARY KEY,
    bytes BLOB NOT NULL
  );
  CREATE TABLE receipts (
    seq         INTEGER PRIMARY KEY,
    hash        BLOB NOT NULL CHECK (length(hash) = 32),
    log_index   INTEGER,
    received_at INTEGER NOT NULL,
    receipt     BLOB NOT NULL
  );
  -- Routine batches evicted by the quota. declared_in is the seq of the batch whose dropped
  -- list names it; NULL while the drop still has to be declared.
  CREATE TABLE drops (
    seq          INTEGER PRIMARY KEY,
    hash         BLOB NOT NULL CHECK (length(hash) = 32),
    sample_count INTEGER NOT NULL,
    first_time   INTEGER NOT NULL,
    last_time    INTEGER NOT NULL,
    evicted_at   INTEGER NOT NULL,
    declared_in  INTEGER
  );
  CREATE INDEX drops_declared_in ON drops (declared_in);
  `,
];
