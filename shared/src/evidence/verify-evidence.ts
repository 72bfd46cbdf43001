/**
 * `enginechain verify`: checks an evidence file offline, with no database and no network.
 * Everything it relies on is in the file or given as a trusted key; each step names what it
 * proved. Read top to bottom, it is the whole argument an insurer makes in court.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { decodeCbor } from '../cbor/decode.js';
import type { CborKey, CborValue } from '../cbor/types.js';
import { WireFormatError } from '../cbor/wire-format-error.js';
import { samplesFromColumns } from '../batch/columns.js';
import { batchHash, decodeBatch } from '../batch/signed-batch.js';
import { verifyBatch } from '../batch/signed-batch.js';
import type { BatchSample } from '../batch/types.js';
import { openCheckpoint } from '../checkpoint/signed-checkpoint.js';
import { parseVerifierKey, type Ed25519NoteVerifier } from '../checkpoint/note-keys.js';
import { coseSigStructure, parseCoseSign1, COSE_HEADER } from '../cose/cose-sign1.js';
import { deviceIdFromPublicKey } from '../crypto/device-key.js';
import { decodeLogEntry, vinCommitment } from '../log-entry/log-entry.js';
import { leafHash } from '../merkle/hash.js';
import { verifyConsistency, verifyInclusion } from '../merkle/verify.js';
import {
  DEVICE_KEY,
  EVIDENCE_CONTENT_TYPE,
  EVIDENCE_KEY,
  EVIDENCE_VERSION,
  ITEM_KEY,
  MAX_EVIDENCE_BYTES,
  ROTATION_KEY,
  type EvidenceBundle,
  type EvidenceItem,
  type EvidenceRotation,
} from './evidence-format.js';

const EDDSA = -8;

/**
 * Why `verifyEvidence` (and `enginechain verify`, exit 1) refused a file, one table (after
 * fastify's lib/errors.js); docs/evidence.md and docs/errors.md list them. A code never
 * changes meaning.
 */
export const EVIDENCE_ERROR_CODES = {
  malformed: 'Not a well-formed evidence file (envelope, headers, fields, version, size)',
  'untrusted-signer': 'No usable checkpoint key to check against (none given, or malformed)',
  'bad-signature': 'The file is not signed by a trusted checkpoint key',
  'bad-checkpoint': 'A checkpoint is not signed by enough trusted keys, or is for another log',
  'bad-registration':
    'The device registration does not match the device key or the VIN, or a key rotation is not of this device or out of order',
  'bad-batch': 'A batch signature, VIN or log entry is wrong',
  'bad-proof': 'An inclusion or consistency proof fails',
  'broken-chain': 'Consecutive batches do not link (prev is not the hash of the one before)',
} as const;

export type EvidenceErrorCode = keyof typeof EVIDENCE_ERROR_CODES;

export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
  constructor(
    readonly code: EvidenceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifiedEvidence {
  readonly origin: string;
  readonly vin: string;
  readonly deviceId: string;
  readonly request: string;
  readonly createdAt: number;
  readonly checkpoint: {
    readonly treeSize: bigint;
    readonly rootHash: Uint8Array;
    readonly signers: readonly string[];
  };
  readonly earlierTreeSize: bigint;
  /** The device's key rotations the batches span: from which seq each new key signed. */
  readonly keyRotations: readonly { readonly fromSeq: number; readonly leafIndex: number }[];
  /** Whether the checkpoint signer was given with --trust (else only the file vouches for it). */
  readonly trusted: boolean;
  readonly batches: readonly {
    readonly seq: number;
    readonly leafIndex: number;
    readonly kind: string;
    readonly samples: number;
  }[];
  /** Seq ranges missing between the first and last batch, with what the device declared. */
  readonly gaps: readonly {
    readonly from: number;
    readonly to: number;
    readonly declaredDropped: boolean;
  }[];
  readonly start: number;
  readonly end: number;
  readonly samples: readonly BatchSample[];
  readonly events: readonly {
    readonly type: string;
    readonly start: number;
    readonly end: number;
    readonly data: Readonly<Record<string, number | string>>;
  }[];
}

export interface VerifyEvidenceOptions {
  /** Checkpoint verifier keys (C2SP `name+hash+base64`) to trust; default: the key in the file. */
  readonly trustedKeys?: readonly string[];
  /** How many distinct trusted keys must sign the checkpoint (witness cosigning). Default 1. */
  readonly minSignatures?: number;
}

function fail(code: EvidenceError['code'], message: string): never {
  throw new EvidenceError(code, message);
}

function map(
  v: CborValue | undefined,
  what: string,
  keys: number,
): ReadonlyMap<CborKey, CborValue> {
  if (!(v instanceof Map)) fail('malformed', `${what} is not a map`);
  if (v.size !== keys) fail('malformed', `${what} has ${v.size} fields, expected ${keys}`);
  return v as ReadonlyMap<CborKey, CborValue>;
}
function text(m: ReadonlyMap<CborKey, CborValue>, k: number, what: string): string {
  const v = m.get(k);
  return typeof v === 'string' ? v : fail('malformed', `${what} is not text`);
}
function uint(m: ReadonlyMap<CborKey, CborValue>, k: number, what: string): number {
  const v = m.get(k);
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
    ? v
    : fail('malformed', `${what} is not an unsigned integer`);
}
function bytes(m: ReadonlyMap<CborKey, CborValue>, k: number, what: string): Uint8Array {
  const v = m.get(k);
  return v instanceof Uint8Array ? v : fail('malformed', `${what} is not a byte string`);
}
function hashes(m: ReadonlyMap<CborKey, CborValue>, k: number, what: string): Uint8Array[] {
  const v = m.get(k);
  if (!Array.isArray(v) || !v.every((h) => h instanceof Uint8Array && h.length === 32))
    fail('malformed', `${what} is not a list of 32-byte hashes`);
  return v as Uint8Array[];
}

/** Parses the signed envelope and payload; checks the structure only. */
export function parseEvidence(file: Uint8Array): {
  bundle: EvidenceBundle;
  signed: { protectedBytes: Uint8Array; payload: Uint8Array; signature: Uint8Array };
} {
  if (!(file instanceof Uint8Array)) throw new TypeError('file: expected a Uint8Array');
  if (file.length > MAX_EVIDENCE_BYTES)
    fail('malformed', `file of ${file.length} bytes exceeds ${MAX_EVIDENCE_BYTES}`);
  try {
    const cose = parseCoseSign1(file, { maxBytes: MAX_EVIDENCE_BYTES });
    if (cose.protectedHeader.get(COSE_HEADER.alg) !== EDDSA)
      fail('malformed', 'evidence must be signed with EdDSA');
    if (cose.protectedHeader.get(COSE_HEADER.contentType) !== EVIDENCE_CONTENT_TYPE)
      fail('malformed', 'not an enginechain evidence file');
    if (cose.protectedHeader.size !== 2 || cose.unprotectedHeader.size !== 0)
      fail('malformed', 'unexpected COSE headers');
    const decoded = decodeCbor(cose.payload, {
      maxBytes: MAX_EVIDENCE_BYTES,
      deterministic: true,
      maxDepth: 6,
      maxItems: 10_000_000,
    });
    const hasRotations = decoded instanceof Map && decoded.has(EVIDENCE_KEY.rotations);
    const p = map(decoded, 'evidence', hasRotations ? 12 : 11);
    let rotations: EvidenceRotation[] = [];
    if (hasRotations) {
      const list = p.get(EVIDENCE_KEY.rotations);
      if (!Array.isArray(list) || list.length === 0)
        fail('malformed', 'rotations is not a non-empty list');
      rotations = list.map((it, i) => {
        const m = map(it, `rotations[${i}]`, 3);
        return {
          leafIndex: uint(m, ROTATION_KEY.leafIndex, `rotations[${i}].leafIndex`),
          entry: bytes(m, ROTATION_KEY.entry, `rotations[${i}].entry`),
          inclusionProof: hashes(m, ROTATION_KEY.inclusionProof, `rotations[${i}].inclusionProof`),
        };
      });
    }
    const keys = p.get(EVIDENCE_KEY.checkpointKeys);
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string'))
      fail('malformed', 'checkpointKeys is not a list of keys');
    if (uint(p, EVIDENCE_KEY.version, 'version') !== EVIDENCE_VERSION)
      fail('malformed', 'unknown evidence version');
    const d = map(p.get(EVIDENCE_KEY.device), 'device', 6);
    const items = p.get(EVIDENCE_KEY.batches);
    if (!Array.isArray(items) || items.length === 0)
      fail('malformed', 'batches is not a non-empty list');
    const batches: EvidenceItem[] = items.map((it, i) => {
      const m = map(it, `batches[${i}]`, 4);
      return {
        bytes: bytes(m, ITEM_KEY.bytes, `batches[${i}].bytes`),
        leafIndex: uint(m, ITEM_KEY.leafIndex, `batches[${i}].leafIndex`),
        entry: bytes(m, ITEM_KEY.entry, `batches[${i}].entry`),
        inclusionProof: hashes(m, ITEM_KEY.inclusionProof, `batches[${i}].inclusionProof`),
      };
    });
    const deviceIdBytes = bytes(d, DEVICE_KEY.deviceId, 'device.deviceId');
    return {
      bundle: {
        version: EVIDENCE_VERSION,
        origin: text(p, EVIDENCE_KEY.origin, 'origin'),
        vin: text(p, EVIDENCE_KEY.vin, 'vin'),
        device: {
          deviceId: bytesToHex(deviceIdBytes),
          publicKey: bytes(d, DEVICE_KEY.publicKey, 'device.publicKey'),
          vinSalt: bytes(d, DEVICE_KEY.vinSalt, 'device.vinSalt'),
          leafIndex: uint(d, DEVICE_KEY.leafIndex, 'device.leafIndex'),
          entry: bytes(d, DEVICE_KEY.entry, 'device.entry'),
          inclusionProof: hashes(d, DEVICE_KEY.inclusionProof, 'device.inclusionProof'),
        },
        batches,
        rotations,
        checkpoint: text(p, EVIDENCE_KEY.checkpoint, 'checkpoint'),
        earlierCheckpoint: text(p, EVIDENCE_KEY.earlierCheckpoint, 'earlierCheckpoint'),
        consistencyProof: hashes(p, EVIDENCE_KEY.consistencyProof, 'consistencyProof'),
        request: text(p, EVIDENCE_KEY.request, 'request'),
        createdAt: uint(p, EVIDENCE_KEY.createdAt, 'createdAt'),
        checkpointKeys: keys as string[],
      },
      signed: {
        protectedBytes: cose.protectedBytes,
        payload: cose.payload,
        signature: cose.signature,
      },
    };
  } catch (err) {
    if (err instanceof EvidenceError) throw err;
    if (err instanceof WireFormatError)
      fail('malformed', `not a well-formed evidence file: ${err.message}`);
    throw err;
  }
}

const eq = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The signer name on a note's first signature line, for messages. */
function checkpointSignerName(note: string): string | undefined {
  return /^— (\S+) /m.exec(note)?.[1];
}

/**
 * Verifies an evidence file. Throws EvidenceError (with a code) at the first failure; a
 * misuse (wrong argument types) throws TypeError.
 */
export function verifyEvidence(
  file: Uint8Array,
  options: VerifyEvidenceOptions = {},
): VerifiedEvidence {
  const { bundle: b, signed } = parseEvidence(file);

  // 1. Who vouches: the checkpoint key(s). Trusted keys come from the caller; without them the
  //    file's own keys are used and the result says they were not independently trusted.
  const trustedKeys = options.trustedKeys ?? b.checkpointKeys;
  if (trustedKeys.length === 0)
    fail(
      'untrusted-signer',
      `no checkpoint key to check against (signer ${checkpointSignerName(b.checkpoint) ?? 'unknown'}); pass --trust`,
    );
  let verifiers: Ed25519NoteVerifier[];
  try {
    verifiers = trustedKeys.map((k) => parseVerifierKey(k));
  } catch (err) {
    return fail('untrusted-signer', `a trusted key is malformed: ${(err as Error).message}`);
  }

  // 2. The envelope: signed by one of those keys, so no byte of the file can change unnoticed.
  const tbs = coseSigStructure(signed.protectedBytes, signed.payload);
  if (!verifiers.some((v) => v.verify(tbs, signed.signature)))
    fail('bad-signature', 'the evidence file is not signed by a trusted checkpoint key');

  // 3. The checkpoints: signed by trusted keys, for this log, the later one extending the earlier.
  let latest: ReturnType<typeof openCheckpoint>;
  let earlier: ReturnType<typeof openCheckpoint>;
  try {
    const policy = { origin: b.origin, minSignatures: options.minSignatures ?? 1 };
    latest = openCheckpoint(b.checkpoint, verifiers, policy);
    earlier = openCheckpoint(b.earlierCheckpoint, verifiers, policy);
  } catch (err) {
    return fail('bad-checkpoint', (err as Error).message);
  }
  const size = latest.checkpoint.treeSize;
  const root = latest.checkpoint.rootHash;
  try {
    if (earlier.checkpoint.treeSize === size) {
      if (!eq(earlier.checkpoint.rootHash, root) || b.consistencyProof.length !== 0)
        fail('bad-proof', 'equal-size checkpoints with different roots');
    } else {
      verifyConsistency(earlier.checkpoint.treeSize, size, earlier.checkpoint.rootHash, root, [
        ...b.consistencyProof,
      ]);
    }
  } catch (err) {
    if (err instanceof EvidenceError) throw err;
    fail(
      'bad-proof',
      `the latest checkpoint does not extend the earlier one: ${(err as Error).message}`,
    );
  }

  // 4. The device: its registration is in the log, names this key, and commits to this VIN.
  const reg = decodeEntry(b.device.entry, 'bad-registration');
  if (reg.type !== 'registration') fail('bad-registration', 'device entry is not a registration');
  if (
    reg.deviceId !== b.device.deviceId ||
    deviceIdFromPublicKey(b.device.publicKey) !== reg.deviceId ||
    !eq(reg.publicKey, b.device.publicKey)
  ) {
    fail('bad-registration', 'registration does not match the device key');
  }
  if (!eq(reg.vinCommitment, vinCommitment(b.vin, b.device.vinSalt)))
    fail('bad-registration', `registration is not for VIN ${b.vin}`);
  proveIncluded(
    b.device.leafIndex,
    size,
    b.device.entry,
    b.device.inclusionProof,
    root,
    'registration',
  );

  // 4b. Its key rotations: each in the log, of this device, in seq order. Each batch verifies
  //     with the key whose period holds its seq: the registration key up to the first rotation.
  const keys: { fromSeq: number; publicKey: Uint8Array }[] = [
    { fromSeq: 0, publicKey: b.device.publicKey },
  ];
  for (const [i, r] of b.rotations.entries()) {
    const e = decodeEntry(r.entry, 'bad-registration');
    if (e.type !== 'key-rotation' || e.deviceId !== b.device.deviceId)
      fail('bad-registration', `rotation ${i} is not a key rotation of this device`);
    if (e.fromSeq <= keys[keys.length - 1]!.fromSeq)
      fail('bad-registration', `rotation ${i} does not come after the one before it`);
    proveIncluded(r.leafIndex, size, r.entry, r.inclusionProof, root, `rotation ${i}`);
    keys.push({ fromSeq: e.fromSeq, publicKey: e.publicKey });
  }
  const keyForSeq = (seq: number) => keys.filter((k) => k.fromSeq <= seq).pop()!.publicKey;

  // 5. Every batch: signed by the device with its key for the batch's seq, for this VIN,
  //    logged as exactly these bytes, in the earlier checkpoint already, and chained to its
  //    neighbours.
  const out: { seq: number; leafIndex: number; kind: string; samples: number }[] = [];
  const samples: BatchSample[] = [];
  const events: VerifiedEvidence['events'][number][] = [];
  const bySeq = new Map<number, { hash: Uint8Array; prev: Uint8Array; dropped: number[] }>();
  for (const [i, item] of b.batches.entries()) {
    // The seq is read before the signature is checked only to pick the key; the check covers it.
    const unverified = decodeBatch(item.bytes);
    if (!unverified.ok)
      fail('bad-batch', `batch ${i}: ${unverified.error.code}: ${unverified.error.message}`);
    const v = verifyBatch(item.bytes, keyForSeq(unverified.value.payload.seq), b.device.deviceId);
    if (!v.ok) fail('bad-batch', `batch ${i}: ${v.error.code}: ${v.error.message}`);
    const p = v.value.payload;
    if (p.vin !== null && p.vin !== b.vin) fail('bad-batch', `batch ${i} is for VIN ${p.vin}`);
    const entry = decodeEntry(item.entry, 'bad-batch');
    const hash = batchHash(item.bytes);
    if (
      entry.type !== 'batch' ||
      entry.deviceId !== b.device.deviceId ||
      entry.seq !== p.seq ||
      !eq(entry.batchHash, hash)
    ) {
      fail('bad-batch', `batch ${i}: its log entry does not name these bytes`);
    }
    if (BigInt(item.leafIndex) >= earlier.checkpoint.treeSize)
      fail('bad-proof', `batch ${i} is not in the earlier checkpoint`);
    proveIncluded(item.leafIndex, size, item.entry, item.inclusionProof, root, `batch ${i}`);
    if (bySeq.has(p.seq)) fail('bad-batch', `seq ${p.seq} appears twice`);
    bySeq.set(p.seq, { hash, prev: p.prev, dropped: p.dropped.map((d) => d.seq) });
    const s = samplesFromColumns(p.signals, p.start);
    // A loop, not push(...s): a 256 KiB batch can hold some 65,000 samples, a spread that size
    // is one call frame of as many arguments.
    for (const sample of s) samples.push(sample);
    events.push(
      ...p.events.map((e) => ({ type: e.type, start: e.start, end: e.end, data: e.data })),
    );
    out.push({ seq: p.seq, leafIndex: item.leafIndex, kind: p.kind, samples: s.length });
  }

  // 6. Chain: consecutive seqs must link; missing ones are reported (declared drops say why).
  const seqs = [...bySeq.keys()].sort((x, y) => x - y);
  const declared = new Set([...bySeq.values()].flatMap((v) => v.dropped));
  const gaps: { from: number; to: number; declaredDropped: boolean }[] = [];
  for (let i = 1; i < seqs.length; i++) {
    const a = seqs[i - 1] as number;
    const z = seqs[i] as number;
    if (z === a + 1) {
      if (!eq(bySeq.get(z)!.prev, bySeq.get(a)!.hash))
        fail('broken-chain', `seq ${z} does not chain onto seq ${a}`);
    } else {
      const missing = Array.from({ length: z - a - 1 }, (_, k) => a + 1 + k);
      gaps.push({ from: a + 1, to: z - 1, declaredDropped: missing.every((s) => declared.has(s)) });
    }
  }
  samples.sort((x, y) => x.time - y.time);
  const times = samples.map((s) => s.time);
  return {
    origin: b.origin,
    vin: b.vin,
    deviceId: b.device.deviceId,
    request: b.request,
    createdAt: b.createdAt,
    checkpoint: {
      treeSize: size,
      rootHash: root,
      signers: latest.note.signatures.map((s) => s.name),
    },
    earlierTreeSize: earlier.checkpoint.treeSize,
    keyRotations: keys
      .slice(1)
      .map((k, i) => ({ fromSeq: k.fromSeq, leafIndex: b.rotations[i]!.leafIndex })),
    trusted: options.trustedKeys !== undefined,
    batches: out.sort((x, y) => x.seq - y.seq),
    gaps,
    start: times.length ? (times[0] as number) : 0,
    end: times.length ? (times[times.length - 1] as number) : 0,
    samples,
    events,
  };
}

function decodeEntry(entry: Uint8Array, code: EvidenceError['code']) {
  try {
    return decodeLogEntry(entry);
  } catch (err) {
    return fail(code, `log entry: ${(err as Error).message}`);
  }
}

function proveIncluded(
  index: number,
  size: bigint,
  entry: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  what: string,
): void {
  try {
    verifyInclusion(BigInt(index), size, leafHash(entry), [...proof], root);
  } catch (err) {
    fail('bad-proof', `${what} is not in the checkpointed log: ${(err as Error).message}`);
  }
}

/**
 * The verified trace as CSV: a header, `time` (ISO 8601 UTC) first, then one column per VSS
 * signal (with its unit), one row per distinct timestamp.
 */
export function evidenceCsv(v: VerifiedEvidence): string {
  const columns = [...new Map(v.samples.map((s) => [s.name, s.unit])).entries()].sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const index = new Map(columns.map(([name], i) => [name, i]));
  const rows = new Map<number, string[]>();
  for (const s of v.samples) {
    let row = rows.get(s.time);
    if (!row) rows.set(s.time, (row = new Array<string>(columns.length).fill('')));
    row[index.get(s.name) as number] = csvCell(String(s.value));
  }
  const header = [
    'time',
    ...columns.map(([name, unit]) => csvCell(unit ? `${name} [${unit}]` : name)),
  ].join(',');
  const lines = [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, row]) => [new Date(t).toISOString(), ...row].join(','));
  return [header, ...lines].join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
