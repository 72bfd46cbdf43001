import { decodeLogEntry } from '@enginechain/shared';
import type { DataKind } from '../access/access-record.js';
import type { AccessRecordRow } from '../access/access-store.js';
import type { Sidechain } from '../sidechain/sidechain.js';
import type { IngestStore } from '../storage/ingest-store.js';
import type { TimeRanges, VehicleData } from './vehicle-data.js';

export type VinFileItemKind =
  | 'registration'
  | 'trip'
  | 'event'
  | 'crash'
  | 'dtc-set'
  | 'dtc-cleared'
  | 'grant'
  | 'grant-revoked'
  | 'access'
  | 'key-rotation';

export interface VinFileLeaf {
  readonly leafIndex: number;
  readonly entry: Uint8Array;
  /** Inclusion proof at the file's checkpoint; null while the leaf is newer than it. */
  readonly proof: readonly Uint8Array[] | null;
}

export interface VinFileItem {
  readonly at: number;
  readonly kind: VinFileItemKind;
  readonly summary: string;
  readonly ref: string;
  readonly leaves: readonly VinFileLeaf[];
  /** For access items: the private record whose hash is the leaf's. */
  readonly record?: Uint8Array;
}

export interface VinFile {
  readonly vin: string;
  readonly checkpoint: {
    readonly treeSize: number;
    readonly root: Uint8Array;
    readonly note: string;
  } | null;
  readonly items: readonly VinFileItem[];
}

const EVENT_KIND = (type: string): VinFileItemKind =>
  type === 'crash' ? 'crash' : type === 'dtc-set' || type === 'dtc-cleared' ? type : 'event';
const KIND_SCOPE: Record<VinFileItemKind, DataKind | 'always' | 'owner'> = {
  registration: 'always',
  'key-rotation': 'always',
  trip: 'trips',
  event: 'events',
  crash: 'events',
  'dtc-set': 'events',
  'dtc-cleared': 'events',
  grant: 'owner',
  'grant-revoked': 'owner',
  access: 'owner',
};

/**
 * The white paper's lifetime file of a vehicle: registrations, trips, events, DTCs and grants in
 * time order, each with the log entries behind it and their inclusion proofs at one checkpoint,
 * so the whole file checks against a single signed tree head.
 */
export async function buildVinFile(args: {
  vin: string;
  store: IngestStore;
  sidechain: Sidechain;
  data: VehicleData;
  /** Time ranges per data kind the reader may see; owners see all. */
  scope: Partial<Record<DataKind, TimeRanges>>;
  /** Grant and access records: the owner's only. */
  accessRecords?: readonly AccessRecordRow[];
}): Promise<VinFile> {
  const { vin, store, sidechain, data, scope } = args;
  const cp = sidechain.latestCheckpoint;
  const proofCache = new Map<number, VinFileLeaf>();
  const leaf = async (leafIndex: number): Promise<VinFileLeaf | undefined> => {
    const cached = proofCache.get(leafIndex);
    if (cached) return cached;
    const stored = await store.logEntry(leafIndex);
    if (!stored) return undefined;
    const proof =
      cp && leafIndex < cp.treeSize ? await sidechain.inclusionProof(leafIndex, cp.treeSize) : null;
    const l = { leafIndex, entry: stored.entry, proof };
    proofCache.set(leafIndex, l);
    return l;
  };
  const leaves = async (indexes: Iterable<number>) =>
    (await Promise.all([...new Set(indexes)].map(leaf))).filter(
      (l): l is VinFileLeaf => l !== undefined,
    );
  const visible = (kind: VinFileItemKind, at: number) => {
    const s = KIND_SCOPE[kind];
    if (s === 'always') return true;
    if (s === 'owner') return args.accessRecords !== undefined;
    return (scope[s] ?? []).some(([a, b]) => at >= a && at <= b);
  };

  const items: VinFileItem[] = [];
  for (const d of await store.devicesByVin(vin)) {
    items.push({
      at: d.registeredAt,
      kind: 'registration',
      summary: `device ${d.deviceId} registered${d.status === 'revoked' ? ' (now revoked)' : ''}`,
      ref: d.deviceId,
      leaves: await leaves([d.registrationLeaf]),
    });
    // Each later key period began with a key-rotation entry; its time is the entry's own.
    for (const period of d.keys.slice(1)) {
      const stored = await store.logEntry(period.leafIndex);
      const entry = stored ? decodeLogEntry(stored.entry) : undefined;
      if (entry?.type !== 'key-rotation') continue;
      items.push({
        at: entry.at,
        kind: 'key-rotation',
        summary: `device ${d.deviceId} rotated its key from seq ${period.fromSeq}`,
        ref: d.deviceId,
        leaves: await leaves([period.leafIndex]),
      });
    }
  }
  const batches = await store.batchLeaves(vin, 0, Number.MAX_SAFE_INTEGER);
  if (scope.trips) {
    for (const t of await data.trips(vin, scope.trips)) {
      items.push({
        at: t.start,
        kind: 'trip',
        summary: `trip of ${t.distanceKm.toFixed(2)} km, ${Math.round(t.durationS / 60)} min`,
        ref: t.id,
        leaves: await leaves(
          batches
            .filter((b) => b.endTime >= t.start && b.startTime <= t.end)
            .map((b) => b.leafIndex),
        ),
      });
    }
  }
  for (const e of await store.eventsByVin(vin)) {
    const kind = EVENT_KIND(e.type);
    if (!visible(kind, e.start)) continue;
    const b = await store.getBatch(e.deviceId, e.seq);
    const code = typeof e.data.code === 'string' ? ` ${e.data.code}` : '';
    items.push({
      at: e.start,
      kind,
      summary: `${e.type}${code}`,
      ref: String(e.id),
      leaves: b ? await leaves([b.leafIndex]) : [],
    });
  }
  for (const r of args.accessRecords ?? []) {
    items.push({
      at: r.at,
      kind: r.kind,
      summary: r.kind === 'access' ? `read by ${r.username}` : `${r.kind} (by ${r.username})`,
      ref: String(r.grantId ?? r.id),
      leaves: await leaves([r.leafIndex]),
      record: r.record,
    });
  }
  items.sort((x, y) => x.at - y.at || x.kind.localeCompare(y.kind));
  return {
    vin,
    checkpoint: cp ? { treeSize: cp.treeSize, root: cp.root, note: cp.note } : null,
    items,
  };
}
