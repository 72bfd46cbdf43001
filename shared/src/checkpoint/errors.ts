/**
 * The checkpoint and signed-note error codes, one table (after fastify's lib/errors.js). A code
 * never changes meaning; docs/merkle-log.md lists each with how to solve it, and errors.test.ts
 * keeps this table and the docs in step.
 */
export const CHECKPOINT_ERROR_CODES = {
  'bad-input':
    'An argument has the wrong type (texts are strings, hashes Uint8Array, sizes bigint or safe integers)',
  'malformed-checkpoint':
    'The checkpoint body is not origin, size and root hash lines, each ending in a newline, with no empty line',
  'bad-origin': 'The origin line is empty or holds control characters',
  'bad-tree-size':
    'The tree size is not a canonical decimal (no sign, no leading zeros) below 2^64',
  'bad-root-hash': 'The root hash is not canonical standard base64 of exactly 32 bytes',
  'bad-extension': 'An extension line is empty or holds control characters',
  'origin-mismatch': 'The checkpoint belongs to another log than the one expected',
  'malformed-key':
    'A key string is not name+keyhash+base64 (or PRIVATE+KEY+name+keyhash+base64) with an 8-digit hex key hash',
  'bad-name':
    'A key or signer name is empty, holds whitespace or "+", or is not well-formed Unicode',
  'key-hash-mismatch':
    'The key hash in the key string is not the first 4 bytes of SHA-256(name ‖ "\\n" ‖ key)',
  'unsupported-key-algorithm': 'The key is not an Ed25519 key (algorithm byte 0x01)',
  'bad-key-length': 'The Ed25519 public key or seed is not exactly 32 bytes',
  'malformed-note':
    'The signed note is not text, a blank line and "— name base64" signature lines (UTF-8, no control characters but newline)',
  'duplicate-signer': 'The same key (name and key hash) was asked to sign a note twice',
  'bad-signature':
    'A signature from a known key does not verify: the note was altered or signed with another key',
  'no-known-signature':
    'No signature on the note comes from a known key, so its text cannot be trusted',
  'too-few-signatures': 'Fewer distinct known keys signed the note than the policy requires',
} as const;

export type CheckpointErrorCode = keyof typeof CHECKPOINT_ERROR_CODES;

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly code: CheckpointErrorCode,
    message?: string,
  ) {
    super(message ?? CHECKPOINT_ERROR_CODES[code]);
  }
}
