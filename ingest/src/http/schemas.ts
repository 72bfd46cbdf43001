/** JSON Schemas shared by several routes (and so by the OpenAPI document). */
import { errorSchema } from './errors.js';

export const errorResponses = {
  '4xx': errorSchema,
  '5xx': errorSchema,
} as const;

export const userSchema = {
  type: 'object',
  required: ['id', 'username', 'kind', 'displayName'],
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    kind: { type: 'string', enum: ['registered', 'business'] },
    displayName: { type: 'string' },
  },
} as const;

export const dataKindSchema = {
  type: 'string',
  enum: ['trips', 'events', 'traces', 'scores'],
} as const;

export const vinParams = {
  type: 'object',
  required: ['vin'],
  properties: { vin: { type: 'string', minLength: 17, maxLength: 17 } },
} as const;

/** A device id as the node issues it: 16 bytes in lower-case hex. */
export const deviceIdParams = {
  type: 'object',
  required: ['deviceId'],
  properties: { deviceId: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
} as const;

export const timeRangeQuery = {
  from: { type: 'integer', minimum: 0, description: 'ms since the epoch, inclusive' },
  to: { type: 'integer', minimum: 0, description: 'ms since the epoch, inclusive' },
} as const;

export const grantSchema = {
  type: 'object',
  required: ['id', 'vin', 'owner', 'business', 'kinds', 'from', 'to', 'expiresAt', 'createdAt', 'revokedAt', 'status', 'leafIndex'],
  properties: {
    id: { type: 'integer' },
    vin: { type: 'string' },
    owner: { type: 'string' },
    business: { type: 'string' },
    kinds: { type: 'array', items: dataKindSchema },
    from: { type: 'integer' },
    to: { type: 'integer' },
    expiresAt: { type: 'integer' },
    createdAt: { type: 'integer' },
    revokedAt: { type: ['integer', 'null'] },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
    leafIndex: { type: 'integer' },
  },
} as const; // prettier-ignore

export const proofSchema = { type: 'array', items: { type: 'string' } } as const;

/** Bytes in JSON: standard base64 (the proofs and hashes RFC 9162 tools print). */
export const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
