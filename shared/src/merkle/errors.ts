/**
 * The Merkle area's error codes, one table per error class (after fastify's lib/errors.js).
 * A code never changes meaning; docs/merkle-log.md lists each with how to solve it, and
 * errors.test.ts keeps this table and the docs in step.
 */

/** Verdicts of the offline verifier (verify.ts) on a proof it was handed. */
export const PROOF_ERROR_CODES = {
  'bad-input':
    'An argument has the wrong type (indices must be bigint, hashes Uint8Array, the proof an array)',
  'out-of-range': 'An index or tree size is not an unsigned 64-bit integer (0 ≤ n < 2^64)',
  'index-beyond-size': 'The leaf index is not below the tree size, so no inclusion proof can exist',
  'sizes-out-of-order': 'The first tree size of a consistency proof is larger than the second',
  'empty-tree': 'A consistency proof from the empty tree is meaningless; check the size directly',
  'bad-hash-length': 'A leaf hash, root or proof element is not exactly 32 bytes',
  'wrong-proof-length':
    'The proof has a different number of hashes than the sizes and index require',
  'root-mismatch': 'The root computed from the proof differs from the given root',
} as const;

export type ProofErrorCode = keyof typeof PROOF_ERROR_CODES;

/** Thrown by verifyInclusion / verifyConsistency: the proof does not prove what was claimed. */
export class ProofError extends Error {
  override readonly name = 'ProofError';
  constructor(
    readonly code: ProofErrorCode,
    message?: string,
  ) {
    super(message ?? PROOF_ERROR_CODES[code]);
  }
}

/** Misuse of the log builder, or a node store that cannot serve what the log needs. */
export const MERKLE_LOG_ERROR_CODES = {
  'bad-input':
    'An argument has the wrong type or shape (sizes are safe integers, hashes 32-byte Uint8Array)',
  'out-of-range':
    'A leaf index or tree size lies beyond the log (or beyond Number.MAX_SAFE_INTEGER)',
  'missing-node':
    'The node store does not hold a node the log needs; it is behind the log or was opened at the wrong size',
  'out-of-order-write':
    'Nodes must be written in index order per level; the store already holds, or is missing, earlier nodes',
} as const;

export type MerkleLogErrorCode = keyof typeof MERKLE_LOG_ERROR_CODES;

export class MerkleLogError extends Error {
  override readonly name = 'MerkleLogError';
  constructor(
    readonly code: MerkleLogErrorCode,
    message?: string,
  ) {
    super(message ?? MERKLE_LOG_ERROR_CODES[code]);
  }
}
