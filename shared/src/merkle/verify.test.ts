import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProofError } from './errors.js';
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.js';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './verify.js';

interface Vectors {
  emptyTreeRoot: string;
  leaves: string[];
  leafHashes: string[];
  nodeHashes: { levels: string[][] };
  roots: { treeSize: number; root: string }[];
  inclusionProofs: {
    leafIndex: number;
    treeSize: number;
    leafHash: string;
    root: string;
    proof: string[];
  }[];
  consistencyProofs: {
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[];
  }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/merkle/rfc6962-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rootOf = (size: number): string => {
  const found = vectors.roots.find((r) => r.treeSize === size);
  if (!found) throw new Error(`no vector root for size ${size}`);
  return found.root;
};
const flipBit = (b: Uint8Array, bit = 0): Uint8Array => {
  const c = b.slice();
  c[bit >> 3] = (c[bit >> 3] as number) ^ (1 << (bit & 7));
  return c;
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProofError) return e.code;
    throw e;
  }
  return undefined;
}

describe('RFC 6962 vectors (transparency-dev/merkle testonly + cmd/proofgen)', () => {
  it('hashes every classic leaf and the empty tree', () => {
    expect(toHex(EMPTY_ROOT)).toBe(vectors.emptyTreeRoot);
    vectors.leaves.forEach((leaf, i) =>
      expect(toHex(leafHash(hex(leaf)))).toBe(vectors.leafHashes[i]),
    );
  });

  it('rebuilds every complete subtree hash level by level', () => {
    const levels = vectors.nodeHashes.levels;
    for (let level = 1; level < levels.length; level++) {
      (levels[level] as string[]).forEach((expected, i) => {
        const below = levels[level - 1] as string[];
        expect(toHex(nodeHash(hex(below[2 * i] as string), hex(below[2 * i + 1] as string)))).toBe(
          expected,
        );
      });
    }
  });

  it.each(vectors.inclusionProofs.map((v) => [`leaf ${v.leafIndex} of ${v.treeSize}`, v] as const))(
    'inclusion proof for %s verifies, and every named mutation fails',
    (_name, v) => {
      const proof = v.proof.map(hex);
      const [index, size, leaf, root] = [
        BigInt(v.leafIndex),
        BigInt(v.treeSize),
        hex(v.leafHash),
        hex(v.root),
      ];
      expect(() => verifyInclusion(index, size, leaf, proof, root)).not.toThrow();
      expect(toHex(rootFromInclusionProof(index, size, leaf, proof))).toBe(v.root);

      expect(codeOf(() => verifyInclusion(index, size, flipBit(leaf), proof, root))).toBe(
        'root-mismatch',
      );
      expect(codeOf(() => verifyInclusion(index, size, leaf, proof, flipBit(root, 255)))).toBe(
        'root-mismatch',
      );
      expect(codeOf(() => verifyInclusion(index, size, leaf, [...proof, leaf], root))).toBe(
        'wrong-proof-length',
      );
      proof.forEach((_, i) => {
        const flipped = proof.map((p, j) => (j === i ? flipBit(p, 77) : p));
        expect(codeOf(() => verifyInclusion(index, size, leaf, flipped, root))).toBe(
          'root-mismatch',
        );
      });
      if (proof.length > 0)
        expect(codeOf(() => verifyInclusion(index, size, leaf, proof.slice(0, -1), root))).toBe(
          'wrong-proof-length',
        );
      // The real root of another size never matches this proof.
      for (let other = 1; other <= 8; other++) {
        if (other === v.treeSize || other <= v.leafIndex) continue;
        expect(
          codeOf(() => verifyInclusion(index, BigInt(other), leaf, proof, hex(rootOf(other)))),
        ).toBeDefined();
      }
    },
  );

  it.each(vectors.consistencyProofs.map((v) => [`${v.size1} → ${v.size2}`, v] as const))(
    'consistency proof %s verifies, and every named mutation fails',
    (_name, v) => {
      const proof = v.proof.map(hex);
      const [s1, s2, r1, r2] = [BigInt(v.size1), BigInt(v.size2), hex(v.root1), hex(v.root2)];
      expect(() => verifyConsistency(s1, s2, r1, r2, proof)).not.toThrow();
      expect(codeOf(() => verifyConsistency(s1, s2, flipBit(r1), r2, proof))).toBe('root-mismatch');
      expect(codeOf(() => verifyConsistency(s1, s2, r1, flipBit(r2), proof))).toBe('root-mismatch');
      expect(codeOf(() => verifyConsistency(s1, s2, r1, r2, [...proof, r1]))).toBe(
        'wrong-proof-length',
      );
      if (v.size1 !== v.size2) {
        expect(codeOf(() => verifyConsistency(s1, s2, r2, r1, proof))).toBe('root-mismatch');
        expect(codeOf(() => verifyConsistency(s1, s2, r1, r2, proof.slice(0, -1)))).toBe(
          'wrong-proof-length',
        );
        proof.forEach((_, i) => {
          const flipped = proof.map((p, j) => (j === i ? flipBit(p, 200) : p));
          expect(codeOf(() => verifyConsistency(s1, s2, r1, r2, flipped))).toBe('root-mismatch');
        });
      }
    },
  );
});

describe('edge rules (shared/vectors/merkle/README.md)', () => {
  const h = (n: number): Uint8Array => new Uint8Array(32).fill(n);

  it('refuses a consistency proof from size 0, even towards size 0', () => {
    expect(codeOf(() => verifyConsistency(0n, 5n, EMPTY_ROOT, h(1), []))).toBe('empty-tree');
    expect(codeOf(() => verifyConsistency(0n, 0n, EMPTY_ROOT, EMPTY_ROOT, []))).toBe('empty-tree');
  });

  it('needs an empty proof and equal roots when size1 == size2', () => {
    expect(() => verifyConsistency(7n, 7n, h(1), h(1), [])).not.toThrow();
    expect(codeOf(() => verifyConsistency(7n, 7n, h(1), h(1), [h(2)]))).toBe('wrong-proof-length');
    expect(codeOf(() => verifyConsistency(7n, 7n, h(1), h(2), []))).toBe('root-mismatch');
  });

  it('refuses size1 > size2 and an empty proof between different sizes', () => {
    expect(codeOf(() => verifyConsistency(8n, 7n, h(1), h(2), []))).toBe('sizes-out-of-order');
    expect(codeOf(() => verifyConsistency(3n, 7n, h(1), h(2), []))).toBe('wrong-proof-length');
  });

  it('needs leafIndex < treeSize', () => {
    expect(codeOf(() => verifyInclusion(0n, 0n, h(1), [], h(1)))).toBe('index-beyond-size');
    expect(codeOf(() => verifyInclusion(8n, 8n, h(1), [h(2), h(3), h(4)], h(1)))).toBe(
      'index-beyond-size',
    );
  });

  it('takes every hash at exactly 32 bytes', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array(31), new Uint8Array(33)]) {
      expect(codeOf(() => verifyInclusion(0n, 2n, bad, [h(1)], h(2)))).toBe('bad-hash-length');
      expect(codeOf(() => verifyInclusion(0n, 2n, h(0), [bad], h(2)))).toBe('bad-hash-length');
      expect(codeOf(() => verifyInclusion(0n, 2n, h(0), [h(1)], bad))).toBe('bad-hash-length');
      expect(codeOf(() => verifyConsistency(1n, 2n, bad, h(2), [h(1)]))).toBe('bad-hash-length');
      expect(codeOf(() => verifyConsistency(1n, 2n, h(0), bad, [h(1)]))).toBe('bad-hash-length');
      expect(codeOf(() => verifyConsistency(1n, 2n, h(0), h(2), [bad]))).toBe('bad-hash-length');
    }
  });

  it('keeps indices unsigned 64-bit and refuses anything that is not a bigint', () => {
    const max = (1n << 64n) - 1n;
    expect(codeOf(() => verifyInclusion(-1n, 2n, h(0), [h(1)], h(2)))).toBe('out-of-range');
    expect(codeOf(() => verifyInclusion(0n, 1n << 64n, h(0), [h(1)], h(2)))).toBe('out-of-range');
    expect(codeOf(() => verifyConsistency(1n, 1n << 64n, h(0), h(2), [h(1)]))).toBe('out-of-range');
    expect(codeOf(() => verifyConsistency(-3n, 2n, h(0), h(2), [h(1)]))).toBe('out-of-range');
    // 2^64 − 1 leaves is a legal size: the verdict is about the proof, not the range.
    expect(codeOf(() => verifyInclusion(max - 1n, max, h(0), [], h(2)))).toBe('wrong-proof-length');
    const hostile: unknown[] = [0, 1.5, '3', null, undefined, {}, Number.MAX_SAFE_INTEGER];
    for (const value of hostile) {
      expect(codeOf(() => verifyInclusion(value as bigint, 2n, h(0), [h(1)], h(2)))).toBe(
        'bad-input',
      );
      expect(codeOf(() => verifyInclusion(0n, value as bigint, h(0), [h(1)], h(2)))).toBe(
        'bad-input',
      );
      expect(codeOf(() => verifyConsistency(value as bigint, 2n, h(0), h(2), [h(1)]))).toBe(
        'bad-input',
      );
      expect(codeOf(() => verifyConsistency(1n, value as bigint, h(0), h(2), [h(1)]))).toBe(
        'bad-input',
      );
    }
    for (const value of [null, 'ab', [1, 2], new Uint16Array(16), {}]) {
      expect(codeOf(() => verifyInclusion(0n, 2n, value as Uint8Array, [h(1)], h(2)))).toBe(
        'bad-input',
      );
      expect(codeOf(() => verifyInclusion(0n, 2n, h(0), [value as Uint8Array], h(2)))).toBe(
        'bad-input',
      );
      expect(codeOf(() => verifyConsistency(1n, 2n, h(0), value as Uint8Array, [h(1)]))).toBe(
        'bad-input',
      );
    }
    expect(
      codeOf(() => verifyInclusion(0n, 2n, h(0), 'proof' as unknown as Uint8Array[], h(2))),
    ).toBe('bad-input');
    expect(
      codeOf(() => verifyConsistency(1n, 2n, h(0), h(2), null as unknown as Uint8Array[])),
    ).toBe('bad-input');
  });

  it('never rounds an index above 2^53 through Number', () => {
    // Leaf 2^53 + 1 of 2^53 + 2: its proof is the two complete subtrees to its left (2^53 leaves,
    // then leaf 2^53). Through Number the index would become 2^53, whose proof has the same
    // length but hashes the leaf on the other side.
    const index = (1n << 53n) + 1n;
    const size = index + 1n;
    const [leaf, left2p53, leaf2p53] = [h(9), h(10), h(11)];
    const root = nodeHash(left2p53, nodeHash(leaf2p53, leaf));
    expect(Number(index)).toBe(2 ** 53); // what rounding would do
    expect(() => verifyInclusion(index, size, leaf, [leaf2p53, left2p53], root)).not.toThrow();
    expect(codeOf(() => verifyInclusion(index - 1n, size, leaf, [leaf2p53, left2p53], root))).toBe(
      'root-mismatch',
    );
  });
});
