/**
 * Signed batches: a COSE_Sign1 (tag 18, ES256K) whose payload is the deterministic CBOR of a
 * `BatchPayload`. The agent stores and sends exactly the bytes `signBatch` returns; receivers
 * verify and store the bytes as received, never re-encoded. Convention (STYLE.md): untrusted
 * bytes get a `Verdict` (`decodeBatch`, `verifyBatch`); misuse throws `WireFormatError`
 * with code `bad-input` (or `KeyFileError` for a malformed key).
 */
import type { KeyObject } from 'node:crypto';
import { encodeCbor } from '../cbor/encode.js';
import type { CborKey, CborValue } from '../cbor/types.js';
import { WireFormatError, verdictOf, type Verdict } from '../cbor/wire-format-error.js';
import {
  COSE_HEADER,
  ES256K,
  checkCoseSign1Signature,
  parseCoseSign1,
  signCoseSign1,
} from '../cose/cose-sign1.js';
import {
  DEVICE_ID_BYTES,
  deviceIdFromPublicKey,
  deviceKeyFromPrivateKey,
  type DeviceKey,
} from '../crypto/device-key.js';
import {
  sha256,
  signEs256k,
  toSecp256k1KeyObject,
  type Secp256k1PublicKey,
} from '../crypto/secp256k1.js';
import { columnsFromSamples } from './columns.js';
import { BATCH_FORMAT_VERSION, payloadToCbor } from './payload-codec.js';
import { readBatchPayload } from './payload-reader.js';
import type {
  BatchClock,
  BatchEvent,
  BatchKind,
  BatchPayload,
  BatchSample,
  DroppedBatch,
} from './types.js';

/** Hard limit on a batch's COSE bytes, checked before parsing anything. */
export const MAX_BATCH_BYTES = 256 * 1024;
/** Content type in the protected header (label 3); its `v` follows the payload version. */
export const BATCH_CONTENT_TYPE = 'application/vnd.enginechain.batch+cbor;v=1';
/** `prev` of the first batch (seq 0). */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);

export interface BatchHeader {
  readonly alg: number;
  readonly contentType: string;
  /** Device id bytes (16). */
  readonly kid: Uint8Array;
}

/** A decoded batch; `protectedBytes`, `payloadBytes` and `signature` are views into `bytes`. */
export interface DecodedBatch {
  /** The COSE bytes exactly as received: store these, hash these. */
  readonly bytes: Uint8Array;
  /** The protected header bstr contents as received (part of what was signed). */
  readonly protectedBytes: Uint8Array;
  readonly header: BatchHeader;
  /** The payload bstr contents as received. */
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
  /** Hex of the kid; equals `payload.deviceId`. */
  readonly deviceId: string;
  readonly payload: BatchPayload;
}

/** SHA-256 of a batch's full COSE bytes: the `prev` of the next batch and the Merkle leaf data. */
export function batchHash(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array))
    throw new WireFormatError('bad-input', 'bytes: expected a Uint8Array');
  return sha256(bytes);
}

function protectedHeaderFor(deviceIdBytes: Uint8Array): Map<number, CborValue> {
  return new Map<number, CborValue>([
    [COSE_HEADER.alg, ES256K.id],
    [COSE_HEADER.contentType, BATCH_CONTENT_TYPE],
    [COSE_HEADER.kid, deviceIdBytes],
  ]);
}

/**
 * Signs a payload with the device key and returns the COSE bytes. Checks the payload exactly
 * as a receiver would (the encoded payload is parsed back), so it never emits a batch that
 * `decodeBatch` refuses: a bad payload throws `bad-input` naming the field. Throws `too-large`
 * when the batch would exceed 256 KiB (cut smaller batches).
 */
export function signBatch(payload: BatchPayload, key: DeviceKey | Uint8Array): Uint8Array {
  const device = key instanceof Uint8Array ? deviceKeyFromPrivateKey(key) : key;
  if (typeof device !== 'object' || device === null || !(device.privateKey instanceof Uint8Array)) {
    throw new WireFormatError('bad-input', 'key: expected a DeviceKey or a 32-byte private key');
  }
  if (payload?.deviceId !== device.deviceId) {
    throw new WireFormatError(
      'bad-input',
      `payload.deviceId ${String(payload?.deviceId)} is not the key's device id ${device.deviceId}`,
    );
  }
  const payloadBytes = encodeCbor(payloadToCbor(payload));
  if (payloadBytes.length > MAX_BATCH_BYTES) {
    throw new WireFormatError(
      'too-large',
      `payload of ${payloadBytes.length} bytes exceeds ${MAX_BATCH_BYTES}; cut smaller batches`,
    );
  }
  try {
    readBatchPayload(payloadBytes);
  } catch (err) {
    if (err instanceof WireFormatError) {
      throw new WireFormatError('bad-input', `payload.${err.message}`, { cause: err });
    }
    throw err;
  }
  const bytes = signCoseSign1(
    {
      protectedHeader: protectedHeaderFor(Buffer.from(device.deviceId, 'hex')),
      payload: payloadBytes,
    },
    (toBeSigned) => signEs256k(toBeSigned, device.privateKey),
  );
  if (bytes.length > MAX_BATCH_BYTES) {
    throw new WireFormatError(
      'too-large',
      `batch of ${bytes.length} bytes exceeds ${MAX_BATCH_BYTES}; cut smaller batches`,
    );
  }
  return bytes;
}

function parseBatch(bytes: Uint8Array): DecodedBatch {
  if (bytes.length > MAX_BATCH_BYTES) {
    throw new WireFormatError(
      'too-large',
      `${bytes.length} bytes exceed the batch limit of ${MAX_BATCH_BYTES}`,
    );
  }
  const cose = parseCoseSign1(bytes, {
    maxBytes: MAX_BATCH_BYTES,
    requireTag: true,
    deterministic: true,
  });
  const h = cose.protectedHeader;
  for (const label of h.keys()) {
    if (
      label !== COSE_HEADER.alg &&
      label !== COSE_HEADER.contentType &&
      label !== COSE_HEADER.kid
    ) {
      throw new WireFormatError('bad-header', `unexpected protected header label ${String(label)}`);
    }
  }
  if (cose.unprotectedHeader.size !== 0) {
    throw new WireFormatError(
      'bad-header',
      'the unprotected header must be empty (nothing unsigned travels with a batch)',
    );
  }
  const alg = h.get(COSE_HEADER.alg);
  if (alg !== ES256K.id)
    throw new WireFormatError('bad-alg', `protected alg ${String(alg)} is not ES256K (-47)`);
  const contentType = h.get(COSE_HEADER.contentType);
  if (contentType !== BATCH_CONTENT_TYPE) {
    throw new WireFormatError(
      'bad-header',
      `content type ${JSON.stringify(String(contentType))} is not ${BATCH_CONTENT_TYPE}`,
    );
  }
  const kid = h.get(COSE_HEADER.kid);
  if (!(kid instanceof Uint8Array) || kid.length !== DEVICE_ID_BYTES) {
    throw new WireFormatError(
      'bad-kid',
      `protected kid must be the ${DEVICE_ID_BYTES}-byte device id`,
    );
  }
  const payload = readBatchPayload(cose.payload);
  const deviceId = Buffer.from(kid).toString('hex');
  if (payload.deviceId !== deviceId) {
    throw new WireFormatError(
      'bad-kid',
      `payload device id ${payload.deviceId} is not the kid ${deviceId}`,
    );
  }
  return {
    bytes,
    protectedBytes: cose.protectedBytes,
    header: { alg, contentType, kid },
    payloadBytes: cose.payload,
    signature: cose.signature,
    deviceId,
    payload,
  };
}

/**
 * Decodes a batch's structure without a key (to route it, find the device, show it). Nothing
 * is trusted until `verifyBatch` says so.
 */
export function decodeBatch(bytes: Uint8Array): Verdict<DecodedBatch> {
  if (!(bytes instanceof Uint8Array))
    throw new WireFormatError('bad-input', 'bytes: expected a Uint8Array');
  return verdictOf(() => parseBatch(bytes));
}

const ES256K_PROTECTED: ReadonlyMap<CborKey, CborValue> = new Map([[COSE_HEADER.alg, ES256K.id]]);
const NO_HEADERS: ReadonlyMap<CborKey, CborValue> = new Map();

/**
 * Decodes and verifies a batch with the device's public key (SEC1 bytes, or a KeyObject from
 * `secp256k1PublicKeyObject`, faster when reused). The kid must be the device id (`bad-kid`)
 * and the signature low-S and valid (`bad-signature`). The device id is the key's own unless
 * `deviceId` is given: a rotated key keeps the id of the key the device registered with
 * (docs/protocol.md, key rotation), and the caller picks the key valid for the batch's seq.
 */
export function verifyBatch(
  bytes: Uint8Array,
  publicKey: Secp256k1PublicKey | KeyObject,
  deviceId?: string,
): Verdict<DecodedBatch> {
  if (!(bytes instanceof Uint8Array))
    throw new WireFormatError('bad-input', 'bytes: expected a Uint8Array');
  const key = toSecp256k1KeyObject(publicKey);
  return verdictOf(() => {
    const batch = parseBatch(bytes);
    const expected = deviceId ?? deviceIdFromKeyObject(key);
    if (batch.deviceId !== expected) {
      throw new WireFormatError(
        'bad-kid',
        deviceId === undefined
          ? `kid ${batch.deviceId} is not the device id ${expected} of the given key`
          : `kid ${batch.deviceId} is not the device id ${expected}`,
      );
    }
    checkCoseSign1Signature(
      {
        protectedBytes: batch.protectedBytes,
        // parseBatch admitted only this header's alg and an empty unprotected header.
        protectedHeader: ES256K_PROTECTED,
        unprotectedHeader: NO_HEADERS,
        payload: batch.payloadBytes,
        signature: batch.signature,
        tagged: true,
      },
      key,
      ES256K,
    );
    return batch;
  });
}

// A memo of a pure function keyed by object identity: callers that reuse a KeyObject (the
// ingest keeps one per device) skip the point export and hash on every verify.
const deviceIdCache = new WeakMap<KeyObject, string>();

/** The device id of a KeyObject. */
function deviceIdFromKeyObject(key: KeyObject): string {
  let id = deviceIdCache.get(key);
  if (id === undefined) {
    const { x, y } = key.export({ format: 'jwk' });
    const raw = new Uint8Array(65);
    raw[0] = 4;
    raw.set(Buffer.from(x ?? '', 'base64url'), 1);
    raw.set(Buffer.from(y ?? '', 'base64url'), 33);
    id = deviceIdFromPublicKey(raw);
    deviceIdCache.set(key, id);
  }
  return id;
}

export interface BatchPayloadInput {
  readonly kind?: BatchKind;
  readonly deviceId: string;
  readonly vin: string | null;
  readonly seq: number;
  /** Hash of the previous batch; omit (or ZERO_HASH) at seq 0. */
  readonly prev?: Uint8Array;
  /** Unix ms; defaults to the earliest sample time (rounded). Required when there are no samples. */
  readonly start?: number;
  readonly clock: BatchClock;
  readonly samples: readonly BatchSample[];
  readonly events?: readonly BatchEvent[];
  readonly dropped?: readonly DroppedBatch[];
}

/** Builds a payload from samples (columns chosen by `columnsFromSamples`). */
export function buildBatchPayload(input: BatchPayloadInput): BatchPayload {
  if (typeof input !== 'object' || input === null)
    throw new WireFormatError('bad-input', 'input: expected an object');
  let start = input.start;
  if (start === undefined) {
    if (input.samples.length === 0)
      throw new WireFormatError('bad-input', 'start: required when there are no samples');
    start = Math.round(input.samples.reduce((min, s) => (s.time < min ? s.time : min), Infinity));
  }
  return {
    version: BATCH_FORMAT_VERSION,
    kind: input.kind ?? 'routine',
    deviceId: input.deviceId,
    vin: input.vin,
    seq: input.seq,
    prev: input.prev ?? ZERO_HASH,
    start,
    clock: input.clock,
    signals: columnsFromSamples(input.samples, start),
    events: input.events ?? [],
    dropped: input.dropped ?? [],
  };
}
