/**
 * Versioned schema migrations for the PostgreSQL store. Each entry moves the schema from
 * version i to i + 1 inside one transaction; `enginechain_schema.version` records where a
 * database is. Never edit a released migration: add the next one.
 *
 * The tables are those of the SQLite store at its schema 4 (./migrations.ts), with PostgreSQL
 * types: times in ms are BIGINT, bytes BYTEA, row ids identities. Usernames and owners compare
 * without case (SQLite's COLLATE NOCASE) through indexes on lower().
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: everything the SQLite store has at its schema 4.
  `
  CREATE TABLE enrolment_tokens (
    token_hash   BYTEA PRIMARY KEY,
    vin          TEXT NOT NULL,
    owner        TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    device_id    TEXT
  );
  CREATE TABLE devices (
    device_id     TEXT PRIMARY KEY,
    public_key    BYTEA NOT NULL,
    vin           TEXT NOT NULL,
    vin_salt      BYTEA NOT NULL,
    owner         TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    registered_at BIGINT NOT NULL,
    registration_leaf BIGINT NOT NULL DEFAULT -1,
    next_seq      BIGINT NOT NULL DEFAULT 0,
    head_hash     BYTEA NOT NULL
  );
  CREATE INDEX devices_vin ON devices (vin);
  CREATE INDEX devices_owner ON devices (lower(owner));
  CREATE TABLE device_keys (
    device_id  TEXT NOT NULL,
    from_seq   BIGINT NOT NULL,
    public_key BYTEA NOT NULL,
    leaf_index BIGINT NOT NULL,
    PRIMARY KEY (device_id, from_seq)
  );
  CREATE TABLE auth_nonces (
    device_id  TEXT NOT NULL,
    nonce      BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
  );
  CREATE INDEX auth_nonces_expiry ON auth_nonces (expires_at);
  CREATE TABLE batches (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         BYTEA NOT NULL,
    bytes        BYTEA NOT NULL,
    vin          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    start_time   BIGINT NOT NULL,
    end_time     BIGINT NOT NULL,
    sample_count INTEGER NOT NULL,
    received_at  BIGINT NOT NULL,
    leaf_index   BIGINT NOT NULL UNIQUE,
    PRIMARY KEY (device_id, seq)
  );
  CREATE INDEX batches_vin_time ON batches (vin, start_time);
  CREATE TABLE held_batches (
    device_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    hash        BYTEA NOT NULL,
    bytes       BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
  );
  CREATE TABLE declared_drops (
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         BYTEA NOT NULL,
    sample_count INTEGER NOT NULL,
    first_time   BIGINT NOT NULL,
    last_time    BIGINT NOT NULL,
    declared_in  BIGINT NOT NULL,
    PRIMARY KEY (device_id, seq)
  );
  CREATE TABLE quarantine (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   TEXT,
    seq         BIGINT,
    hash        BYTEA NOT NULL,
    bytes       BYTEA NOT NULL,
    reason      TEXT NOT NULL,
    received_at BIGINT NOT NULL
  );
  CREATE INDEX quarantine_device ON quarantine (device_id, seq);
  CREATE TABLE rejections (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    device_id   TEXT,
    code        TEXT NOT NULL,
    detail      TEXT NOT NULL
  );
  CREATE TABLE events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    vin        TEXT NOT NULL,
    type       TEXT NOT NULL,
    priority   TEXT NOT NULL,
    start_time DOUBLE PRECISION NOT NULL,
    end_time   DOUBLE PRECISION NOT NULL,
    -- JSON text as the batch had it (jsonb would reorder its keys).
    data       TEXT NOT NULL
  );
  CREATE INDEX events_vin_time ON events (vin, start_time);
  CREATE TABLE log_leaves (
    leaf_index BIGINT PRIMARY KEY,
    entry      BYTEA NOT NULL,
    leaf_hash  BYTEA NOT NULL
  );
  -- Hashes of complete subtrees above the leaves, (level, index) as in RFC 9162.
  CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
  );
  CREATE TABLE checkpoints (
    tree_size  BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('registered', 'business')),
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
  );
  CREATE UNIQUE INDEX users_username ON users (lower(username));
  CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
  );
  CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
  );
  CREATE TABLE grants (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id    BIGINT NOT NULL REFERENCES users (id),
    business_id BIGINT NOT NULL REFERENCES users (id),
    vin         TEXT NOT NULL,
    kinds       TEXT NOT NULL,
    from_time   BIGINT NOT NULL,
    to_time     BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
  );
  CREATE INDEX grants_business_vin ON grants (business_id, vin);
  CREATE INDEX grants_owner ON grants (owner_id);
  CREATE TABLE access_records (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('grant', 'grant-revoked', 'access')),
    vin         TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    grant_id    BIGINT REFERENCES grants (id),
    at          BIGINT NOT NULL,
    record      BYTEA NOT NULL,
    record_hash BYTEA NOT NULL,
    leaf_index  BIGINT NOT NULL UNIQUE
  );
  CREATE INDEX access_records_vin ON access_records (vin, at);
  CREATE INDEX access_records_grant ON access_records (grant_id);
  `,
  // 2: SQLite's 5 (which of a VIN's batches are new since a leaf, from the index alone).
  `
  CREATE INDEX batches_vin_leaf ON batches (vin, leaf_index, start_time);
  `,
  // 3: SQLite's 6 (each device's longest batch span, the lower bound of time-range scans).
  `
  ALTER TABLE devices ADD COLUMN max_span BIGINT NOT NULL DEFAULT 0;
  UPDATE devices SET max_span = COALESCE(
    (SELECT MAX(end_time - start_time) FROM batches WHERE batches.device_id = devices.device_id), 0);
  `,
];
