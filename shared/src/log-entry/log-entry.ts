/**
 * The canonical entries of the driving-data sidechain (docs/merkle-log.md). Every leaf is the
 * deterministic CBOR of one of these maps, so anyone holding an entry can recompute its leaf
 * hash. The log is public: it carries device ids, hashes and times, never a VIN or a sample.
 * A VIN appears only as a salted commitment that evidence opens for the one VIN it is about.
 */
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { randomBytes, sha256 } from '../crypto/backend.js';
import { decodeCbor } from '../cbor/decode.js';
import { encodeCbor } from '../cbor/encode.js';
import type { CborKey, CborValue } from '../cbor/types.js';
import { WireFormatError } from '../cbor/wire-format-error.js';

const K = {
  type: 0,
  deviceId: 1,
  seq: 2,
  batchHash: 3,
  receivedAt: 4,
  publicKey: 5,
  vinCommitment: 6,
  at: 7,
  reason: 8,
  recordHash: 9,
  fromSeq: 10,
} as const;

export interface BatchLogEntry {
  readonly type: 'batch';
  readonly deviceId: string;
  readonly seq: number;
  /** SHA-256 of the batch's COSE bytes as received. */
  readonly batchHash: Uint8Array;
  readonly receivedAt: number;
}

export interface RegistrationLogEntry {
  readonly type: 'registration';
  readonly deviceId: string;
  /** 33-byte compressed secp256k1 public key. */
  readonly publicKey: Uint8Array;
  /** `vinCommitment(vin, salt)`. */
  readonly vinCommitment: Uint8Array;
  readonly at: number;
}

export interface RevocationLogEntry {
  readonly type: 'revocation';
  readonly deviceId: string;
  readonly at: number;
  readonly reason: string;
}

/**
 * A device's new signing key (docs/protocol.md, key rotation): from batch `fromSeq` on, the
 * device's batches verify with `publicKey` only; the earlier seqs keep the key before it. The
 * device id does not change.
 */
export interface KeyRotationLogEntry {
  readonly type: 'key-rotation';
  readonly deviceId: string;
  /** 33-byte compressed secp256k1 public key. */
  readonly publicKey: Uint8Array;
  readonly fromSeq: number;
  readonly at: number;
}

/**
 * A grant, a revocation of a grant, or one business user's access to a vehicle's data. Only the
 * hash of the record is public; the node keeps the record, and its owner can later show it
 * together with the inclusion proof to prove who was allowed to see what, and who did.
 */
export interface AccessLogEntry {
  readonly type: 'access';
  /** SHA-256 of the record's deterministic CBOR (the record carries a random nonce). */
  readonly recordHash: Uint8Array;
  readonly at: number;
}

export type DeviceLogEntry =
  BatchLogEntry | RegistrationLogEntry | RevocationLogEntry | KeyRotationLogEntry;
export type LogEntry = DeviceLogEntry | AccessLogEntry;

const unhex = (s: string) => hexToBytes(s);
const hex = (b: Uint8Array) => bytesToHex(b);
const VIN_COMMITMENT_TAG = utf8ToBytes('ec-vin-v1');

/** SHA-256("ec-vin-v1" ‖ salt ‖ VIN): hides the VIN, yet binds a registration to exactly one. */
export function vinCommitment(vin: string, salt: Uint8Array): Uint8Array {
  if (!(salt instanceof Uint8Array) || salt.length !== 16)
    throw new TypeError('salt: expected 16 bytes');
  const vinBytes = utf8ToBytes(vin);
  const input = new Uint8Array(VIN_COMMITMENT_TAG.length + salt.length + vinBytes.length);
  input.set(VIN_COMMITMENT_TAG);
  input.set(salt, VIN_COMMITMENT_TAG.length);
  input.set(vinBytes, VIN_COMMITMENT_TAG.length + salt.length);
  return sha256(input);
}

export function newVinSalt(): Uint8Array {
  return randomBytes(16);
}

export function encodeLogEntry(e: LogEntry): Uint8Array {
  if (e.type === 'access') {
    if (!(e.recordHash instanceof Uint8Array) || e.recordHash.length !== 32)
      throw new TypeError('recordHash: expected 32 bytes');
    if (!Number.isSafeInteger(e.at) || e.at < 0) throw new TypeError('at: expected a time in ms');
    return encodeCbor(
      new Map<CborKey, CborValue>([
        [K.type, e.type],
        [K.recordHash, e.recordHash],
        [K.at, e.at],
      ]),
    );
  }
  if (!/^[0-9a-f]{32}$/.test(e.deviceId)) throw new TypeError('deviceId: expected 32 hex digits');
  const m = new Map<CborKey, CborValue>([
    [K.type, e.type],
    [K.deviceId, unhex(e.deviceId)],
  ]);
  switch (e.type) {
    case 'batch':
      m.set(K.seq, e.seq);
      m.set(K.batchHash, e.batchHash);
      m.set(K.receivedAt, e.receivedAt);
      break;
    case 'registration':
      m.set(K.publicKey, e.publicKey);
      m.set(K.vinCommitment, e.vinCommitment);
      m.set(K.at, e.at);
      break;
    case 'revocation':
      m.set(K.at, e.at);
      m.set(K.reason, e.reason);
      break;
    case 'key-rotation':
      if (!(e.publicKey instanceof Uint8Array) || e.publicKey.length !== 33)
        throw new TypeError('publicKey: expected 33 bytes');
      if (!Number.isSafeInteger(e.fromSeq) || e.fromSeq < 0)
        throw new TypeError('fromSeq: expected a non-negative integer');
      m.set(K.publicKey, e.publicKey);
      m.set(K.fromSeq, e.fromSeq);
      m.set(K.at, e.at);
      break;
  }
  return encodeCbor(m);
}

function get(m: ReadonlyMap<CborKey, CborValue>, k: number): CborValue | undefined {
  return m.get(k);
}
function uint(m: ReadonlyMap<CborKey, CborValue>, k: number, name: string): number {
  const v = get(m, k);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new WireFormatError('bad-field', `${name}: expected an unsigned integer`);
  return v;
}
function bytes(
  m: ReadonlyMap<CborKey, CborValue>,
  k: number,
  name: string,
  len: number,
): Uint8Array {
  const v = get(m, k);
  if (!(v instanceof Uint8Array) || v.length !== len)
    throw new WireFormatError('bad-field', `${name}: expected ${len} bytes`);
  return v;
}

/** Decodes a log entry; anything but a canonical entry is a WireFormatError. */
export function decodeLogEntry(data: Uint8Array): LogEntry {
  const v = decodeCbor(data, { deterministic: true, maxDepth: 2, maxBytes: 4_096 });
  if (!(v instanceof Map)) throw new WireFormatError('bad-field', 'log entry is not a map');
  const m = v as ReadonlyMap<CborKey, CborValue>;
  const type = get(m, K.type);
  const expectKeys = (n: number) => {
    if (m.size !== n)
      throw new WireFormatError(
        'bad-field',
        `${String(type)} entry has ${m.size} fields, expected ${n}`,
      );
  };
  if (type === 'access') {
    expectKeys(3);
    return { type, recordHash: bytes(m, K.recordHash, 'recordHash', 32), at: uint(m, K.at, 'at') };
  }
  const deviceId = hex(bytes(m, K.deviceId, 'deviceId', 16));
  switch (type) {
    case 'batch':
      expectKeys(5);
      return {
        type,
        deviceId,
        seq: uint(m, K.seq, 'seq'),
        batchHash: bytes(m, K.batchHash, 'batchHash', 32),
        receivedAt: uint(m, K.receivedAt, 'receivedAt'),
      };
    case 'registration':
      expectKeys(5);
      return {
        type,
        deviceId,
        publicKey: bytes(m, K.publicKey, 'publicKey', 33),
        vinCommitment: bytes(m, K.vinCommitment, 'vinCommitment', 32),
        at: uint(m, K.at, 'at'),
      };
    case 'revocation': {
      expectKeys(4);
      const reason = get(m, K.reason);
      if (typeof reason !== 'string')
        throw new WireFormatError('bad-field', 'reason: expected text');
      return { type, deviceId, at: uint(m, K.at, 'at'), reason };
    }
    case 'key-rotation':
      expectKeys(5);
      return {
        type,
        deviceId,
        publicKey: bytes(m, K.publicKey, 'publicKey', 33),
        fromSeq: uint(m, K.fromSeq, 'fromSeq'),
        at: uint(m, K.at, 'at'),
      };
    default:
      throw new WireFormatError(
        'bad-field',
        `unknown log entry type ${JSON.stringify(String(type))}`,
      );
  }
}
