import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MERKLE_LOG_ERROR_CODES, MerkleLogError, PROOF_ERROR_CODES, ProofError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/merkle-log.md', import.meta.url), 'utf8');

/** The codes listed in the docs table under `heading`, in order. */
function documentedCodes(heading: string): string[] {
  const section = docs.split(`### ${heading}`)[1]?.split('\n### ')[0] ?? '';
  return [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1] as string);
}

describe('Merkle error tables, types and docs stay in step', () => {
  it('documents every ProofError code and no other', () => {
    expect(documentedCodes('ProofError (verifier verdicts)')).toEqual(
      Object.keys(PROOF_ERROR_CODES),
    );
  });

  it('documents every MerkleLogError code and no other', () => {
    expect(documentedCodes('MerkleLogError (builder and storage)')).toEqual(
      Object.keys(MERKLE_LOG_ERROR_CODES),
    );
  });

  it('builds errors from the tables', () => {
    for (const code of Object.keys(PROOF_ERROR_CODES) as (keyof typeof PROOF_ERROR_CODES)[]) {
      const error = new ProofError(code);
      expect(error).toBeInstanceOf(Error);
      expect([error.name, error.code, error.message]).toEqual([
        'ProofError',
        code,
        PROOF_ERROR_CODES[code],
      ]);
    }
    const error = new MerkleLogError('missing-node', 'node (3, 1) is not in the store');
    expect([error.name, error.code, error.message]).toEqual([
      'MerkleLogError',
      'missing-node',
      'node (3, 1) is not in the store',
    ]);
  });
});
