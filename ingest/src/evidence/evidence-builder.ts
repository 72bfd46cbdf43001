import {
  EVIDENCE_VERSION,
  MAX_EVIDENCE_BYTES,
  signEvidence,
  type Ed25519NoteSigner,
  type EvidenceItem,
} from '@enginechain/shared';
import type { IngestStore, StoredBatchRow } from '../storage/ingest-store.js';
import type { Sidechain } from '../sidechain/sidechain.js';

/**
 * Why `enginechain evidence` (exit 1) could not build a file, one table (after fastify's
 * lib/errors.js); docs/errors.md lists them. A code never changes meaning.
 */
export const EVIDENCE_REQUEST_ERROR_CODES = {
  'unknown-event': 'No event with this id for this VIN',
  'no-batches': 'No logged (and checkpointed) batches for this VIN in the range',
  'several-devices': 'The range spans batches of more than one device; ask for a narrower one',
  'unknown-device': 'The batches name a device that is not registered',
  'bad-range': 'from is after to',
  'range-too-large':
    'The range holds more than an evidence file takes (batches, or bytes with its proofs); ask for a narrower one',
} as const;

export type EvidenceRequestErrorCode = keyof typeof EVIDENCE_REQUEST_ERROR_CODES;

export class EvidenceRequestError extends Error {
  override readonly name = 'EvidenceRequestError';
  constructor(
    readonly code: EvidenceRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type EvidenceRequest =
  | { readonly vin: string; readonly eventId: number }
  | { readonly vin: string; readonly from: number; readonly to: number };

/** Around an event, the evidence keeps what a crash trace keeps: 20 s before, 10 s after. */
const EVENT_BEFORE_MS = 20_000;
const EVENT_AFTER_MS = 10_000;

/**
 * An evidence file is built whole and read whole, by `enginechain verify` and by the dashboard
 * in a browser, which refuse one over MAX_EVIDENCE_BYTES: what a file may hold is bounded so a
 * request for a year fails with a clear error instead of exhausting the memory of the node or
 * producing a file no verifier takes. The count bounds the proofs to compute.
 */
export const MAX_EVIDENCE_BATCHES = 50_000;

/**
 * Builds the evidence file for a VIN and an event or time range (docs/evidence.md): the
 * original signed batches, the device registration and the key rotations they span, an inclusion proof for each against the
 * latest checkpoint, the first checkpoint that held them and the consistency proof between
 * the two, signed as a whole with the node's checkpoint key.
 */
export async function buildEvidence(args: {
  store: IngestStore;
  sidechain: Sidechain;
  signer: Ed25519NoteSigner;
  request: EvidenceRequest;
  now?: number;
  /** What one file may hold: batches, and bytes of the whole file (default MAX_EVIDENCE_*). */
  limits?: { readonly batches: number; readonly bytes: number };
}): Promise<Uint8Array> {
  const { store, sidechain, request } = args;
  /** Checks the range's weight from sizes alone, then reads its batches. */
  const limits = args.limits ?? { batches: MAX_EVIDENCE_BATCHES, bytes: MAX_EVIDENCE_BYTES };
  const tooLarge = (what: string) =>
    new EvidenceRequestError(
      'range-too-large',
      `${what}; an evidence file takes at most ${limits.batches} batches and ${limits.bytes} bytes: ask for a narrower range`,
    );
  /** Refuses from sizes alone what cannot fit (the batches' bytes go in whole), then reads. */
  const batchesIn = async (from: number, to: number, label: string) => {
    const size = await store.batchRangeSize(request.vin, from, to);
    if (size.batches > limits.batches || size.bytes > limits.bytes)
      throw tooLarge(`${label} holds ${size.batches} batches of ${size.bytes} bytes`);
    return store.batchesByVin(request.vin, from, to);
  };
  let rows: StoredBatchRow[];
  let label: string;
  if ('eventId' in request) {
    const event = await store.eventById(request.eventId);
    if (!event || event.vin !== request.vin) {
      throw new EvidenceRequestError(
        'unknown-event',
        `no event ${request.eventId} for VIN ${request.vin}`,
      );
    }
    label = `event ${request.eventId} (${event.type})`;
    rows = (
      await batchesIn(event.start - EVENT_BEFORE_MS, event.end + EVENT_AFTER_MS, label)
    ).filter((r) => r.deviceId === event.deviceId);
  } else {
    if (!(request.from <= request.to))
      throw new EvidenceRequestError('bad-range', 'from must not be after to');
    label = `${new Date(request.from).toISOString()}/${new Date(request.to).toISOString()}`;
    rows = await batchesIn(request.from, request.to, label);
  }
  if (rows.length === 0)
    throw new EvidenceRequestError(
      'no-batches',
      `no logged batches for ${request.vin} in ${label}`,
    );
  const devices = new Set(rows.map((r) => r.deviceId));
  if (devices.size > 1) {
    throw new EvidenceRequestError(
      'several-devices',
      `${label} spans ${devices.size} devices; ask for a narrower range`,
    );
  }
  const device = await store.getDevice(rows[0]!.deviceId);
  if (!device)
    throw new EvidenceRequestError(
      'unknown-device',
      `device ${rows[0]!.deviceId} is not registered`,
    );

  // Every key the batches need: the registration key, then each rotation up to the last seq.
  const [registrationKey, ...rotationKeys] = device.keys;
  if (!registrationKey)
    throw new EvidenceRequestError('unknown-device', `device ${device.deviceId} has no key`);
  // Folds, not Math.max(...rows): a spread of tens of thousands of arguments uses the stack.
  const lastSeq = rows.reduce((m, r) => Math.max(m, r.seq), 0);
  const rotations = rotationKeys.filter((k) => k.fromSeq <= lastSeq);

  // Every leaf must be inside a signed checkpoint: sign one now if the latest is too old.
  const lastLeaf = [...rows, ...rotations].reduce(
    (m, x) => Math.max(m, x.leafIndex),
    device.registrationLeaf,
  );
  let latest = sidechain.latestCheckpoint;
  if (!latest || latest.treeSize <= lastLeaf)
    latest = (await sidechain.checkpoint()) ?? sidechain.latestCheckpoint;
  if (!latest || latest.treeSize <= lastLeaf)
    throw new EvidenceRequestError('no-batches', 'the batches are not checkpointed yet');
  const earlier = (await store.firstCheckpointAtLeast(lastLeaf + 1)) ?? latest;
  const size = latest.treeSize;

  const itemFor = async (leafIndex: number, bytes?: Uint8Array): Promise<EvidenceItem> => {
    const stored = await store.logEntry(leafIndex);
    if (!stored) throw new EvidenceRequestError('no-batches', `log entry ${leafIndex} is missing`);
    return {
      bytes: bytes ?? new Uint8Array(0),
      leafIndex,
      entry: stored.entry,
      inclusionProof: await sidechain.inclusionProof(leafIndex, size),
    };
  };
  const registration = await itemFor(device.registrationLeaf);
  const batches = await Promise.all(rows.map((r) => itemFor(r.leafIndex, r.bytes)));
  const rotationItems = await Promise.all(rotations.map((k) => itemFor(k.leafIndex)));
  const file = signEvidence(
    {
      version: EVIDENCE_VERSION,
      origin: sidechain.origin,
      vin: device.vin,
      device: {
        deviceId: device.deviceId,
        publicKey: registrationKey.publicKey,
        vinSalt: device.vinSalt,
        leafIndex: device.registrationLeaf,
        entry: registration.entry,
        inclusionProof: registration.inclusionProof,
      },
      batches,
      rotations: rotationItems.map(({ leafIndex, entry, inclusionProof }) => ({
        leafIndex,
        entry,
        inclusionProof,
      })),
      checkpoint: latest.note,
      earlierCheckpoint: earlier.note,
      consistencyProof:
        earlier.treeSize === size ? [] : await sidechain.consistencyProof(earlier.treeSize, size),
      request: label,
      createdAt: Math.round(args.now ?? Date.now()),
      checkpointKeys: [sidechain.verifierKey],
    },
    args.signer,
  );
  // The proofs and entries come on top of the batches: the file itself is what must fit.
  if (file.length > limits.bytes)
    throw tooLarge(`${label} makes a file of ${file.length} bytes with its proofs`);
  return file;
}
