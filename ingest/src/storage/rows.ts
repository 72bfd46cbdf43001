/**
 * Rows to records, the same for every backend: the SQLite and PostgreSQL schemas use the same
 * table and column names, and both drivers give byte columns as Buffers.
 */
import type { DataKind } from '../access/access-record.js';
import type {
  AccessRecordRow,
  ApiTokenRow,
  GrantRow,
  User,
  UserKind,
} from '../access/access-store.js';
import type {
  BatchLeaf,
  CheckpointRow,
  DeclaredDrop,
  DeviceKeyPeriod,
  DeviceRecord,
  QuarantinedBatch,
  StoredBatchRow,
  StoredEvent,
  VehicleChanges,
  VehicleStats,
} from './ingest-store.js';

export type Row = Record<string, unknown>;

export const u8 = (b: unknown): Uint8Array => new Uint8Array(b as Buffer);
/**
 * A Buffer view of `u` for PostgreSQL, whose driver binds only Buffers as bytea. better-sqlite3
 * binds any Uint8Array as a blob, so the SQLite stores pass bytes as they are (no view to make
 * and collect per bound value, several per stored batch).
 */
export const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
const numberOrNull = (v: unknown): number | null => (v === null ? null : Number(v));

export function toDevice(r: Row, keys: readonly DeviceKeyPeriod[]): DeviceRecord {
  return {
    deviceId: r.device_id as string,
    publicKey: u8(r.public_key),
    keys,
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

export function toBatch(r: Row): StoredBatchRow {
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

export function toBatchLeaf(r: Row): BatchLeaf {
  return {
    deviceId: r.device_id as string,
    seq: r.seq as number,
    leafIndex: r.leaf_index as number,
    startTime: r.start_time as number,
    endTime: r.end_time as number,
    kind: r.kind as string,
  };
}

/** Of `COUNT(*) AS n, MIN(start_time) AS first, … AS last` (the latest end). */
export function toVehicleStats(r: Row): VehicleStats {
  return {
    batches: Number(r.n),
    firstTime: (r.first as number | null) ?? null,
    lastTime: (r.last as number | null) ?? null,
  };
}

/** Of `COUNT(*) AS n, MIN(start_time) AS earliest, MAX(start_time) AS latest, MAX(leaf_index) AS last`. */
export function toVehicleChanges(r: Row): VehicleChanges {
  return {
    batches: Number(r.n),
    earliestStart: (r.earliest as number | null) ?? null,
    latestStart: (r.latest as number | null) ?? null,
    lastLeafIndex: (r.last as number | null) ?? null,
  };
}

export function toQuarantined(r: Row): QuarantinedBatch {
  return {
    deviceId: (r.device_id as string | null) ?? undefined,
    seq: (r.seq as number | null) ?? undefined,
    hash: u8(r.hash),
    bytes: u8(r.bytes),
    reason: r.reason as string,
    receivedAt: r.received_at as number,
  };
}

export function toDrop(r: Row): DeclaredDrop {
  return {
    seq: r.seq as number,
    hash: u8(r.hash),
    sampleCount: r.sample_count as number,
    firstTime: r.first_time as number,
    lastTime: r.last_time as number,
  };
}

export function toEvent(r: Row): StoredEvent {
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

export function toCheckpoint(r: Row): CheckpointRow {
  return {
    treeSize: r.tree_size as number,
    root: u8(r.root),
    note: r.note as string,
    createdAt: r.created_at as number,
  };
}

export const toUser = (r: Row): User => ({
  id: Number(r.id),
  username: String(r.username),
  kind: r.kind as UserKind,
  displayName: String(r.display_name),
  createdAt: Number(r.created_at),
});

/** A grant with its parties' names and the access record that logged it. */
export const GRANT_SELECT = `
  SELECT g.*, o.username AS owner, b.username AS business, a.leaf_index, a.record_hash
  FROM grants g
  JOIN users o ON o.id = g.owner_id
  JOIN users b ON b.id = g.business_id
  JOIN access_records a ON a.grant_id = g.id AND a.kind = 'grant'`;

export const toGrant = (r: Row): GrantRow => ({
  id: Number(r.id),
  ownerId: Number(r.owner_id),
  owner: String(r.owner),
  businessId: Number(r.business_id),
  business: String(r.business),
  vin: String(r.vin),
  kinds: JSON.parse(String(r.kinds)) as DataKind[],
  from: Number(r.from_time),
  to: Number(r.to_time),
  expiresAt: Number(r.expires_at),
  createdAt: Number(r.created_at),
  revokedAt: numberOrNull(r.revoked_at),
  leafIndex: Number(r.leaf_index),
  recordHash: u8(r.record_hash),
});

export const toApiToken = (r: Row): ApiTokenRow => ({
  id: Number(r.id),
  name: String(r.name),
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  revokedAt: numberOrNull(r.revoked_at),
  lastUsedAt: numberOrNull(r.last_used_at),
});

export const toAccessRecord = (r: Row): AccessRecordRow => ({
  id: Number(r.id),
  kind: r.kind as AccessRecordRow['kind'],
  vin: String(r.vin),
  userId: Number(r.user_id),
  username: String(r.username),
  grantId: numberOrNull(r.grant_id),
  at: Number(r.at),
  record: u8(r.record),
  recordHash: u8(r.record_hash),
  leafIndex: Number(r.leaf_index),
});
