/**
 * Versioned schema migrations for the node's SQLite store. Each entry moves the schema from
 * version i to i + 1 inside one transaction; PRAGMA user_version records where a file is.
 * Never edit a released migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: devices, enrolment, evidence (original COSE bytes), decoded samples and events, the log.
  `
  CREATE TABLE enrolment_tokens (
    token_hash   BLOB PRIMARY KEY,
    vin          TEXT NOT NULL,
    owner        TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    device_id    TEXT
  );
  CREATE TABLE devices (
    device_id     TEXT PRIMARY KEY,
    public_key    BLOB NOT NULL,
    vin           TEXT NOT NULL,
    -- The registration log entry commits to the VIN as SHA-256(tag ‖ salt ‖ VIN); evidence
    -- reveals salt and VIN for the one vehicle it is about.
    vin_salt      BLOB NOT NULL,
    owner         TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    registered_at INTEGER NOT NULL,
    registration_leaf INTEGER NOT NULL DEFAULT -1,
    -- The chain head: the next seq the node accepts and the hash the next batch's prev must be.
    next_seq      INTEGER NOT NULL DEFAULT 0,
    head_hash     BLOB NOT NULL
  );
  CREATE INDEX devices_vin ON devices (vin);
  CREATE TABLE auth_nonces (
    device_id  TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
  ) WITHOUT ROWID;
  CREATE TABLE batches (
    device_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    hash         BLOB NOT NULL,
    bytes        BLOB NOT NULL,
    vin          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    start_time   INTEGER NOT NULL,
    end_time     INTEGER NOT NULL,
    sample_count INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    leaf_index   INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (device_id, seq)
  );
  CREATE INDEX batches_vin_time ON batches (vin, start_time);
  -- Batches verified but not yet in sequence (a gap before them): kept, not logged.
  CREATE TABLE held_batches (
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    hash        BLOB NOT NULL,
    bytes       BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
  );
  -- Seqs a device declared evicted by its disk quota, with the hash the chain runs through.
  CREATE TABLE declared_drops (
    device_id    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    hash         BLOB NOT NULL,
    sample_count INTEGER NOT NULL,
    first_time   INTEGER NOT NULL,
    last_time    INTEGER NOT NULL,
    declared_in  INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
  );
  CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    device_id   TEXT,
    seq         INTEGER,
    hash        BLOB NOT NULL,
    bytes       BLOB NOT NULL,
    reason      TEXT NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    device_id   TEXT,
    code        TEXT NOT NULL,
    detail      TEXT NOT NULL
  );
  CREATE TABLE samples (
    device_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    vin        TEXT NOT NULL,
    name       TEXT NOT NULL,
    time       REAL NOT NULL,
    value_num  REAL,
    value_text TEXT,
    unit       TEXT NOT NULL
  );
  CREATE INDEX samples_vin_name_time ON samples (vin, name, time);
  CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    device_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    vin        TEXT NOT NULL,
    type       TEXT NOT NULL,
    priority   TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time   REAL NOT NULL,
    data       TEXT NOT NULL
  );
  CREATE INDEX events_vin_time ON events (vin, start_time);
  CREATE TABLE log_leaves (
    leaf_index INTEGER PRIMARY KEY,
    entry      BLOB NOT NULL,
    leaf_hash  BLOB NOT NULL
  );
  -- Hashes of complete subtrees, (level, index) as in RFC 9162 / transparency-dev/merkle.
  CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  CREATE TABLE checkpoints (
    tree_size  INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: people and their access (issue 7): users, browser sessions, API tokens, grants from
  // owners to business users, and the private records whose hashes the log carries.
  `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind          TEXT NOT NULL CHECK (kind IN ('registered', 'business')),
    display_name  TEXT NOT NULL,
    -- scrypt, self-describing: scrypt$N$r$p$salt$hash (base64)
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
  );
  -- Only hashes of session and API tokens are kept: a copied database opens no account.
  CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
  );
  CREATE TABLE grants (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users (id),
    business_id INTEGER NOT NULL REFERENCES users (id),
    vin         TEXT NOT NULL,
    -- JSON array of data kinds: trips, events, traces, scores
    kinds       TEXT NOT NULL,
    from_time   INTEGER NOT NULL,
    to_time     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  );
  CREATE INDEX grants_business_vin ON grants (business_id, vin);
  CREATE INDEX grants_vin ON grants (vin);
  -- The private side of every access log entry: the deterministic CBOR whose SHA-256 is on the log.
  CREATE TABLE access_records (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('grant', 'grant-revoked', 'access')),
    vin         TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    grant_id    INTEGER REFERENCES grants (id),
    at          INTEGER NOT NULL,
    record      BLOB NOT NULL,
    record_hash BLOB NOT NULL,
    leaf_index  INTEGER NOT NULL UNIQUE
  );
  CREATE INDEX access_records_vin ON access_records (vin, at);
  `,
  // 3 (issue 6 throughput): samples are no longer copied out of the batches: the evidence
  // bytes every batch row keeps are a compact columnar encoding of them already, and queries
  // decode those (one row per batch instead of one per sample). The rows dropped here were
  // decoded from those same bytes. Level-0 log nodes duplicate log_leaves.leaf_hash, which
  // serves them from now on.
  `
  DROP TABLE samples;
  DELETE FROM log_nodes WHERE level = 0;
  `,
  // 4 (key rotation, docs/protocol.md): every key a device has held and the first seq it signs;
  // a batch verifies with the key whose period holds its seq. devices.public_key stays the
  // current key (MQTT tokens). The registration key is the period from seq 0.
  `
  CREATE TABLE device_keys (
    device_id  TEXT NOT NULL,
    from_seq   INTEGER NOT NULL,
    public_key BLOB NOT NULL,
    -- The registration or key-rotation entry that put the key on the log.
    leaf_index INTEGER NOT NULL,
    PRIMARY KEY (device_id, from_seq)
  ) WITHOUT ROWID;
  INSERT INTO device_keys (device_id, from_seq, public_key, leaf_index)
    SELECT device_id, 0, public_key, registration_leaf FROM devices;
  `,
  // 5 (trips in steps, ingest/src/vehicles/vehicle-data.ts): which of a VIN's batches are new
  // since a leaf, and where they start, from the index alone.
  `
  CREATE INDEX batches_vin_leaf ON batches (vin, leaf_index, start_time);
  `,
  // 6: the longest time span of a batch each device has sent. Queries for a VIN's batches
  // meeting a time range bound their index scan by it from below (start ≥ from − span) instead
  // of reading every batch of the vehicle that starts before the range's end.
  `
  ALTER TABLE devices ADD COLUMN max_span INTEGER NOT NULL DEFAULT 0;
  UPDATE devices SET max_span = COALESCE(
    (SELECT MAX(end_time - start_time) FROM batches WHERE batches.device_id = devices.device_id), 0);
  `,
];
