/**
 * What the ingestion node keeps, behind one interface so a second backend (PostgreSQL) can
 * implement it (sqlite-store.ts, postgres-store.ts; open-store.ts picks one). Methods are async
 * for that reason even though SQLite answers synchronously.
 * Every multi-row change that must not be half-done after a SIGKILL is one method, one
 * transaction.
 */

import type { AccessStore } from '../access/access-store.js';

/**
 * A refusal by the store, the same from every backend. `revoked`: the batch's device was
 * revoked (it may have been verified before the revocation committed). `key-rotated`: the key
 * that signed the batch is no longer the device's key for its seq (a rotation committed after
 * the batch was verified). `unavailable`: the database cannot be reached or opened.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code:
      'chain' | 'schema' | 'not-found' | 'bad-input' | 'revoked' | 'key-rotated' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface EnrolmentToken {
  readonly tokenHash: Uint8Array;
  readonly vin: string;
  readonly owner: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** One key a device held: it signs the device's batches from `fromSeq` until the next one's. */
export interface DeviceKeyPeriod {
  readonly publicKey: Uint8Array;
  readonly fromSeq: number;
  /** The registration or key-rotation entry that put the key on the log. */
  readonly leafIndex: number;
}

/**
 * The longest time span (end − start) among the batches of a group that were stored, by
 * device: what devices.max_span keeps, the bound of time-range scans.
 */
export function longestSpans(
  batches: readonly AcceptedBatch[],
  results: readonly GroupAcceptResult[],
): Map<string, number> {
  const out = new Map<string, number>();
  batches.forEach((b, i) => {
    if (!results[i]?.ok) return;
    const span = b.endTime - b.startTime;
    if (span > (out.get(b.deviceId) ?? 0)) out.set(b.deviceId, span);
  });
  return out;
}

/** The key whose period holds `seq` (`keys` by `fromSeq`). */
export function keyForSeq(
  keys: readonly DeviceKeyPeriod[],
  seq: number,
): DeviceKeyPeriod | undefined {
  let found: DeviceKeyPeriod | undefined;
  for (const k of keys) if (k.fromSeq <= seq) found = k;
  return found;
}

export interface DeviceRecord {
  readonly deviceId: string;
  /** The current key (the last of `keys`): MQTT tokens are signed with it. */
  readonly publicKey: Uint8Array;
  /** Every key the device has held, by `fromSeq`; the first is the registration key (seq 0). */
  readonly keys: readonly DeviceKeyPeriod[];
  readonly vin: string;
  readonly vinSalt: Uint8Array;
  readonly owner: string | undefined;
  readonly status: 'active' | 'revoked';
  readonly registeredAt: number;
  /** Leaf index of the registration entry in the log. */
  readonly registrationLeaf: number;
  readonly nextSeq: number;
  readonly headHash: Uint8Array;
}

export interface StoredSample {
  readonly name: string;
  readonly time: number;
  readonly value: number | string | boolean;
  readonly unit: string;
}

export interface StoredEvent {
  readonly id: number;
  readonly deviceId: string;
  readonly seq: number;
  readonly vin: string;
  readonly type: string;
  readonly priority: string;
  readonly start: number;
  readonly end: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A verified batch in sequence, with everything `acceptBatches` stores for it. */
export interface AcceptedBatch {
  readonly deviceId: string;
  readonly seq: number;
  readonly hash: Uint8Array;
  /** The COSE bytes exactly as received: the evidence. */
  readonly bytes: Uint8Array;
  readonly vin: string;
  readonly kind: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly receivedAt: number;
  /** Samples in the batch: the store reads them from `bytes` when asked (samplesByVin). */
  readonly sampleCount: number;
  readonly events: readonly Omit<StoredEvent, 'id' | 'deviceId' | 'seq' | 'vin'>[];
  /** Seqs this batch declares evicted on the device, which the chain may pass through. */
  readonly declaredDrops: readonly DeclaredDrop[];
  /** The canonical log entry for this batch and its leaf hash. */
  readonly logEntry: Uint8Array;
  readonly leafHash: Uint8Array;
  /** The batch waited in `held_batches` (behind a gap): its row goes in the same transaction. */
  readonly wasHeld?: boolean;
  /**
   * The key the batch verified with. The store checks, inside the transaction, that it is still
   * the device's key for the batch's seq (a rotation may have committed since).
   */
  readonly signedBy?: Uint8Array;
}

/** What became of one batch of a group: each commits or fails alone. */
export type GroupAcceptResult =
  { readonly ok: true; readonly leafIndex: number } | { readonly ok: false; readonly error: Error };

export interface DeclaredDrop {
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly sampleCount: number;
  readonly firstTime: number;
  readonly lastTime: number;
}

export interface StoredBatchRow {
  readonly deviceId: string;
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly bytes: Uint8Array;
  readonly vin: string;
  readonly kind: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly receivedAt: number;
  readonly leafIndex: number;
}

export interface HeldBatch {
  readonly deviceId: string;
  readonly seq: number;
  readonly hash: Uint8Array;
  readonly bytes: Uint8Array;
  readonly receivedAt: number;
}

export interface QuarantinedBatch {
  readonly deviceId: string | undefined;
  readonly seq: number | undefined;
  readonly hash: Uint8Array;
  readonly bytes: Uint8Array;
  readonly reason: string;
  readonly receivedAt: number;
}

export interface CheckpointRow {
  readonly treeSize: number;
  readonly root: Uint8Array;
  readonly note: string;
  readonly createdAt: number;
}

export interface SamplePageQuery {
  readonly vin: string;
  readonly from: number;
  readonly to: number;
  readonly names?: readonly string[];
  readonly after?: { readonly time: number; readonly id: number };
  readonly limit: number;
}

/** A place in a VIN's batches read in start order (equal starts in leaf order): after this one. */
export interface BatchOrderCursor {
  readonly startTime: number;
  readonly leafIndex: number;
}

export interface SampleChunkQuery {
  readonly vin: string;
  /** Start after this batch; from the VIN's first batch when absent. */
  readonly after?: BatchOrderCursor;
  /** Batches (with samples) to read at most. */
  readonly batches: number;
  readonly names?: readonly string[];
}

/** One batch of a SampleChunk. */
export interface ChunkBatch {
  readonly startTime: number;
  readonly leafIndex: number;
  /** In time order (equal times in column order). */
  readonly samples: StoredSample[];
}

/** A run of a VIN's batches in start order, equal starts in leaf order (SampleChunkQuery). */
export interface SampleChunk {
  readonly batches: ChunkBatch[];
  /** Where the next run starts; undefined once the VIN's last batch was read. */
  readonly next: BatchOrderCursor | undefined;
}

export interface SamplePage {
  /**
   * `id` tells samples of equal time apart, stably: the leaf index of the sample's batch
   * × 2^20 + the sample's place in the batch (a batch holds fewer than 2^20 samples).
   */
  readonly samples: readonly (StoredSample & { readonly id: number })[];
  readonly next: { readonly time: number; readonly id: number } | undefined;
}

export interface BatchLeaf {
  readonly deviceId: string;
  readonly seq: number;
  readonly leafIndex: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly kind: string;
}

/** How much a VIN's batches in a time range weigh, before anything is read of them. */
export interface BatchRangeSize {
  readonly batches: number;
  /** The batches' stored bytes (their evidence), summed. */
  readonly bytes: number;
}

export interface VehicleStats {
  readonly batches: number;
  readonly firstTime: number | null;
  readonly lastTime: number | null;
}

/**
 * A VIN's batches stored after a given leaf (a batch's leaf index is its place in storage
 * order): how a reader that derived something from the earlier ones learns what is new.
 */
export interface VehicleChanges {
  readonly batches: number;
  /** Earliest and latest start time among them; null when there are none. */
  readonly earliestStart: number | null;
  readonly latestStart: number | null;
  /** The last of their leaf indexes (null when none): where the next question starts. */
  readonly lastLeafIndex: number | null;
}

export interface LogNodeId {
  readonly level: number;
  readonly index: number;
}

export interface IngestStore {
  /** Users, sessions, API tokens and grants, in the same database and its transactions. */
  readonly access: AccessStore;

  // Enrolment and devices
  addEnrolmentToken(token: EnrolmentToken): Promise<void>;
  /** Marks the token used and registers the device, atomically; undefined if unusable. */
  registerDevice(args: {
    tokenHash: Uint8Array;
    deviceId: string;
    publicKey: Uint8Array;
    vinSalt: Uint8Array;
    now: number;
    /** Builds the registration entry once the token (and so the VIN) is known. */
    logEntry: (vin: string) => Uint8Array;
  }): Promise<
    | { device: DeviceRecord; leafIndex: number }
    | { error: 'unknown-token' | 'token-used' | 'token-expired' | 'device-exists' }
  >;
  getDevice(deviceId: string): Promise<DeviceRecord | undefined>;
  devicesByVin(vin: string): Promise<DeviceRecord[]>;
  /** Every device, oldest registration first (the operator's device list). */
  listDevices(): Promise<DeviceRecord[]>;
  /**
   * Marks an active device revoked and appends its revocation entry, in one transaction: the
   * status and the leaf commit together or not at all. From its commit on, `acceptBatches`
   * refuses the device's batches, even ones verified before it.
   */
  revokeDevice(args: {
    deviceId: string;
    logEntry: Uint8Array;
  }): Promise<{ leafIndex: number } | { error: 'unknown-device' | 'already-revoked' }>;
  /**
   * Gives an active device a new key from `fromSeq` on (docs/protocol.md, key rotation) and
   * appends its key-rotation entry, in one transaction. `seq-passed`: `fromSeq` is below the
   * device's next expected seq or a rotation already covers it.
   */
  rotateDeviceKey(args: {
    deviceId: string;
    publicKey: Uint8Array;
    fromSeq: number;
    logEntry: Uint8Array;
  }): Promise<{ leafIndex: number } | { error: 'unknown-device' | 'revoked' | 'seq-passed' }>;
  /** Single-use check of an MQTT token nonce; false when it was seen before (a replay). */
  useNonce(deviceId: string, nonce: Uint8Array, expiresAt: number, now: number): Promise<boolean>;

  // Batches
  getBatch(deviceId: string, seq: number): Promise<StoredBatchRow | undefined>;
  /**
   * Stores accepted batches, in order, in one transaction (group commit): for each its row with
   * its evidence bytes (samples are read from them), its events and declared drops, its log
   * leaf and the subtree nodes it completes, and the device's chain head. Inside the transaction each batch's device must still be
   * registered and active (a revocation that committed after the batch was verified wins) and
   * its seq must be the device's next; a batch that fails is rolled back alone (a savepoint)
   * and reported, the others commit. Rejects only when the transaction as a whole fails, and
   * then nothing of the group was stored.
   */
  acceptBatches(batches: readonly AcceptedBatch[]): Promise<GroupAcceptResult[]>;
  holdBatch(batch: HeldBatch): Promise<void>;
  heldBatches(deviceId: string): Promise<HeldBatch[]>;
  removeHeld(deviceId: string, seq: number): Promise<void>;
  declaredDrop(deviceId: string, seq: number): Promise<DeclaredDrop | undefined>;
  /** Drops the device declared for seqs ≥ `fromSeq`, in seq order. */
  declaredDropsFrom(deviceId: string, fromSeq: number): Promise<DeclaredDrop[]>;
  /** Records drops declared by a batch that is itself still held behind a gap. */
  recordDeclaredDrops(
    deviceId: string,
    declaredIn: number,
    drops: readonly DeclaredDrop[],
  ): Promise<void>;
  /** Moves the chain head over a seq the device declared dropped (no batch bytes exist). */
  skipDeclaredDrop(deviceId: string, seq: number): Promise<void>;
  quarantine(args: {
    deviceId?: string;
    seq?: number;
    hash: Uint8Array;
    bytes: Uint8Array;
    reason: string;
    receivedAt: number;
  }): Promise<void>;
  /** A device's quarantined batches, bytes and all, in seq order (for the operator). */
  quarantined(deviceId: string): Promise<QuarantinedBatch[]>;
  recordRejection(args: {
    at: number;
    deviceId?: string;
    code: string;
    detail: string;
  }): Promise<void>;
  rejectionCounts(): Promise<Record<string, number>>;

  // Queries
  batchesByVin(vin: string, from: number, to: number): Promise<StoredBatchRow[]>;
  /** The count and bytes of what `batchesByVin` would return, from sizes alone. */
  batchRangeSize(vin: string, from: number, to: number): Promise<BatchRangeSize>;
  eventById(id: number): Promise<StoredEvent | undefined>;
  eventsByVin(vin: string): Promise<StoredEvent[]>;
  /** Samples in time order (equal times in batch and column order). */
  samplesByVin(
    vin: string,
    from: number,
    to: number,
    names?: readonly string[],
  ): Promise<(StoredSample & { deviceId: string; seq: number })[]>;
  /** Samples in (time, id) order, a page at a time; `next` is where the following page starts. */
  samplePage(q: SamplePageQuery): Promise<SamplePage>;
  /**
   * A VIN's samples a run of batches at a time, batches in start order: reads the whole history
   * in memory bounded by the run, each read costing its own batches only.
   */
  sampleChunk(q: SampleChunkQuery): Promise<SampleChunk>;
  /** Where each batch of a VIN sits in the log, without its bytes. */
  batchLeaves(vin: string, from: number, to: number): Promise<BatchLeaf[]>;
  vehicleStats(vin: string): Promise<VehicleStats>;
  /** The VIN's batches whose leaf index is above `afterLeafIndex` (−1: all of them). */
  vehicleChanges(vin: string, afterLeafIndex: number): Promise<VehicleChanges>;
  counts(): Promise<{ devices: number; vehicles: number; batches: number }>;

  // The log
  logSize(): Promise<number>;
  logEntry(leafIndex: number): Promise<{ entry: Uint8Array; leafHash: Uint8Array } | undefined>;
  /**
   * Appends a leaf that stands alone. Leaves that commit to a private record are appended by
   * the method that writes the record, in its transaction (registerDevice, revokeDevice,
   * rotateDeviceKey, AccessStore.appendAccessRecord).
   */
  appendLogEntry(entry: Uint8Array, leafHash: Uint8Array): Promise<number>;
  /** Node hashes of complete subtrees. */
  getLogNodes(ids: readonly LogNodeId[]): Promise<Uint8Array[]>;
  /**
   * Stores a signed checkpoint; when it resolves, the checkpoint and everything committed
   * before it are on disk (receipts, which go out only after a checkpoint, rely on this).
   */
  saveCheckpoint(row: CheckpointRow): Promise<void>;
  latestCheckpoint(): Promise<CheckpointRow | undefined>;
  checkpointAt(treeSize: number): Promise<CheckpointRow | undefined>;
  /** The first checkpoint whose tree has at least `treeSize` leaves. */
  firstCheckpointAtLeast(treeSize: number): Promise<CheckpointRow | undefined>;

  close(): Promise<void>;
}
