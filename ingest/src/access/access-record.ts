/**
 * The private records behind `access` log entries. Each is deterministic CBOR (RFC 8949 §4.2),
 * so the SHA-256 on the public log can be recomputed from the record alone; a random nonce keeps
 * anyone from confirming a guessed record (VIN, names, time) against the public hash.
 */
import { randomBytes } from 'node:crypto';
import { decodeCbor, encodeCbor, sha256, type CborKey, type CborValue } from '@enginechain/shared';

export const DATA_KINDS = ['trips', 'events', 'traces', 'scores'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

export type AccessRecord =
  | {
      readonly kind: 'grant';
      readonly vin: string;
      readonly owner: string;
      readonly business: string;
      readonly kinds: readonly DataKind[];
      readonly from: number;
      readonly to: number;
      readonly expiresAt: number;
      readonly at: number;
    }
  | {
      readonly kind: 'grant-revoked';
      readonly vin: string;
      readonly owner: string;
      readonly business: string;
      /** Hash of the grant's own record: the two are linked on the log, not just in our DB. */
      readonly grant: Uint8Array;
      readonly at: number;
    }
  | {
      readonly kind: 'access';
      readonly vin: string;
      readonly business: string;
      readonly grant: Uint8Array;
      readonly dataKind: DataKind;
      /** Route template and the time range asked for, e.g. `GET /v1/vehicles/:vin/trips`. */
      readonly request: string;
      readonly from: number;
      readonly to: number;
      readonly at: number;
    };

export interface SealedAccessRecord {
  readonly record: AccessRecord;
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
}

const FORMAT_VERSION = 1;

/** Encodes a record with a fresh nonce; the bytes are what gets stored and hashed. */
export function sealAccessRecord(record: AccessRecord): SealedAccessRecord {
  const m = new Map<CborKey, CborValue>([
    ['v', FORMAT_VERSION],
    ['nonce', new Uint8Array(randomBytes(16))],
  ]);
  for (const [k, v] of Object.entries(record) as [string, unknown][]) {
    m.set(k, (Array.isArray(v) ? [...(v as string[])] : v) as CborValue);
  }
  const bytes = encodeCbor(m);
  return { record, bytes, hash: accessRecordHash(bytes) };
}

export function accessRecordHash(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/** Decodes stored record bytes into plain JSON-able fields (bytes as base64). */
export function describeAccessRecord(bytes: Uint8Array): Record<string, unknown> {
  const v = decodeCbor(bytes, { deterministic: true, maxDepth: 3, maxBytes: 4_096 });
  if (!(v instanceof Map)) throw new TypeError('access record is not a map');
  const out: Record<string, unknown> = {};
  for (const [k, val] of v as Map<CborKey, CborValue>) {
    out[String(k)] = val instanceof Uint8Array ? Buffer.from(val).toString('base64') : val;
  }
  return out;
}
