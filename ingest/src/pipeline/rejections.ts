import { WIRE_FORMAT_ERROR_CODES, type WireFormatErrorCode } from '@enginechain/shared';

/**
 * Every reason the node refuses or sets aside a batch, in one table (after fastify's
 * lib/errors.js): the wire-format codes from `shared`, then the node's own. A code never
 * changes meaning; each has a log line and a counter (`enginechain_ingest_rejections_total`).
 */
export const INGEST_REJECTION_CODES = {
  ...WIRE_FORMAT_ERROR_CODES,
  'unknown-device': 'The topic names no registered device',
  'revoked-device': 'The device was revoked; its batches are no longer accepted',
  'topic-mismatch': 'The batch was signed by another device than the topic names',
  'wrong-key-for-seq':
    'The batch is signed with a key of the device that is not its key for this seq (key rotation)',
  'vin-mismatch': 'The batch names another VIN than the device was registered for',
  'bad-prev': 'The batch does not chain onto the one before it (prev hash differs)',
  fork: 'Another batch with the same seq and a different hash was accepted before: quarantined',
  'seq-too-far': 'The batch is so far ahead of the chain that holding it would be unbounded',
  'future-timestamp': 'The batch starts far in the future (flagged, still accepted)',
} as const;

export type IngestRejectionCode = keyof typeof INGEST_REJECTION_CODES;

export function isWireFormatCode(code: string): code is WireFormatErrorCode {
  return code in WIRE_FORMAT_ERROR_CODES;
}
