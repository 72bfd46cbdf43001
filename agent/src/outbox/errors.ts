/**
 * One table of outbox error codes (after fastify's lib/errors.js). A code never changes
 * meaning; each message says what to check.
 */
export const OUTBOX_ERROR_CODES = {
  'bad-input': 'The caller passed an invalid argument',
  'out-of-sequence':
    'The batch seq is not the next seq of the chain: sign it again with chainHead()',
  'broken-chain':
    'The batch prev is not the hash of the batch before it: sign it again with chainHead()',
  'hash-mismatch': 'The hash does not match the stored batch (or is not SHA-256 of its bytes)',
  'unknown-batch': 'No batch with that seq was ever stored in this outbox',
  'unknown-drop': 'A declared drop is not pending: declare only what pendingDrops() returned',
  'quota-exceeded': 'The disk quota is full of event and trace batches: no routine batch fits',
  'wrong-device': 'The outbox file belongs to another device id: use a fresh file for a new key',
  'schema-too-new': 'The outbox file was written by a newer agent: upgrade the agent',
  'in-use':
    'Another running process (an agent) has this outbox open: stop it first, one process per outbox',
  closed: 'The outbox is closed',
  storage: 'SQLite failed (disk full, read-only or damaged file): check the disk',
} as const;

export type OutboxErrorCode = keyof typeof OUTBOX_ERROR_CODES;

export class OutboxError extends Error {
  override readonly name: string = 'OutboxError';
  constructor(
    readonly code: OutboxErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? OUTBOX_ERROR_CODES[code], options);
  }
}

/** A routine batch refused because only event and trace batches fill the quota. */
export class QuotaError extends OutboxError {
  override readonly name = 'QuotaError';
  constructor(
    message: string,
    /** Bytes the refused batch needed beyond what eviction could free. */
    readonly shortBytes: number,
  ) {
    super('quota-exceeded', message);
  }
}
