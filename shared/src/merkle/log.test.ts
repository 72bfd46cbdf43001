import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MerkleLogError, ProofError } from './errors.js';
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.js';
import { MerkleLog, consistencyProofFrom, inclusionProofFrom, rootFrom } from './log.js';
import { assembleProof, planConsistency, planInclusion, planRoot, rangeNodes } from './plan.js';
import {
  referenceConsistencyProof,
  referenceInclusionProof,
  referenceRoot,
} from './rfc9162-reference.js';
import { MemoryNodeStore } from './store.js';
import { verifyConsistency, verifyInclusion } from './verify.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/merkle/rfc6962-vectors.json', import.meta.url), 'utf8'),
) as {
  leaves: string[];
  roots: { treeSize: number; root: string }[];
  inclusionProofs: { leafIndex: number; treeSize: number; proof: string[] }[];
  consistencyProofs: { size1: number; size2: number; proof: string[] }[];
};
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hexAll = (list: readonly Uint8Array[]): string[] => list.map(toHex);

/** Entry i of the synthetic logs: distinct, varying length, deterministic. */
const entry = (i: number): Uint8Array =>
  new TextEncoder().encode(`entry ${i} ${'x'.repeat(i % 7)}`);

function logOf(entries: readonly Uint8Array[]): MerkleLog {
  const log = new MerkleLog();
  for (const e of entries) log.append(e);
  return log;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProofError || e instanceof MerkleLogError) return e.code;
    throw e;
  }
  return undefined;
}

describe('MerkleLog against the RFC 6962 vectors', () => {
  const log = logOf(vectors.leaves.map(hex));

  it('gives the published root for every size 0..8, now and at past sizes', () => {
    expect(vectors.roots.map((r) => r.treeSize)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const { treeSize, root } of vectors.roots) expect(toHex(log.root(treeSize))).toBe(root);
    expect(toHex(new MerkleLog().root())).toBe(toHex(EMPTY_ROOT));
    const growing = new MerkleLog();
    expect(toHex(growing.root())).toBe(vectors.roots[0]?.root);
    vectors.leaves.forEach((leaf, i) => {
      growing.append(hex(leaf));
      expect(toHex(growing.root())).toBe(vectors.roots[i + 1]?.root);
    });
  });

  it('produces the published inclusion and consistency proofs', () => {
    for (const v of vectors.inclusionProofs)
      expect(hexAll(log.inclusionProof(v.leafIndex, v.treeSize))).toEqual(v.proof);
    for (const v of vectors.consistencyProofs)
      expect(hexAll(log.consistencyProof(v.size1, v.size2))).toEqual(v.proof);
  });
});

describe('leafHash and nodeHash (inputs assembled in reused buffers)', () => {
  const sha = (...parts: Uint8Array[]) => {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  };

  it('hash 0x00 ‖ entry and 0x01 ‖ left ‖ right, whatever size came before', () => {
    for (const size of [0, 1, 64, 255, 256, 5_000, 3, 100_000, 90]) {
      const entry = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
      expect(leafHash(entry)).toEqual(sha(Uint8Array.of(0), entry));
    }
    const left = new Uint8Array(32).fill(0xaa);
    const right = new Uint8Array(32).fill(0x55);
    const first = nodeHash(left, right);
    expect(nodeHash(right, left)).toEqual(sha(Uint8Array.of(1), right, left));
    expect(first).toEqual(sha(Uint8Array.of(1), left, right));
  });
});

describe('MerkleLog against the naive RFC 9162 §2.1 reference', () => {
  const entries = Array.from({ length: 64 }, (_, i) => entry(i));
  const log = logOf(entries);

  it('agrees on every root, inclusion and consistency proof for all sizes up to 64', () => {
    for (let size = 0; size <= 64; size++) {
      const prefix = entries.slice(0, size);
      expect(toHex(log.root(size))).toBe(toHex(referenceRoot(prefix)));
      for (let index = 0; index < size; index++)
        expect(hexAll(log.inclusionProof(index, size))).toEqual(
          hexAll(referenceInclusionProof(index, prefix)),
        );
      for (let size1 = 1; size1 <= size; size1++)
        expect(hexAll(log.consistencyProof(size1, size))).toEqual(
          hexAll(referenceConsistencyProof(size1, prefix)),
        );
    }
  });

  it('agrees on random trees of random entries (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        (list, a, b) => {
          const built = logOf(list);
          const size = 1 + (a % list.length);
          const prefix = list.slice(0, size);
          const index = b % size;
          expect(toHex(built.root(size))).toBe(toHex(referenceRoot(prefix)));
          expect(hexAll(built.inclusionProof(index, size))).toEqual(
            hexAll(referenceInclusionProof(index, prefix)),
          );
          expect(hexAll(built.consistencyProof(index + 1, size))).toEqual(
            hexAll(referenceConsistencyProof(index + 1, prefix)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('property: proofs from trees up to 2,000 leaves verify, and any change fails', () => {
  const LEAVES = 2000;
  const entries = Array.from({ length: LEAVES }, (_, i) => entry(i));
  const log = logOf(entries);
  const roots = Array.from({ length: LEAVES + 1 }, (_, size) => log.root(size));
  const flip = (p: Uint8Array, bit: number): Uint8Array => {
    const c = p.slice();
    c[(bit >> 3) % 32] = (c[(bit >> 3) % 32] as number) ^ (1 << (bit & 7));
    return c;
  };

  const sizeAndIndex = fc
    .integer({ min: 1, max: LEAVES })
    .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));

  it('inclusion', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), (pair, pick, bit) => {
        const [size, index] = pair;
        const proof = log.inclusionProof(index, size);
        const leaf = leafHash(entries[index] as Uint8Array);
        const root = roots[size] as Uint8Array;
        const verify = (i: number, s: number, l: Uint8Array, p: Uint8Array[], r: Uint8Array) =>
          codeOf(() => verifyInclusion(BigInt(i), BigInt(s), l, p, r));
        expect(verify(index, size, leaf, proof, root)).toBeUndefined();

        expect(verify(index, size, flip(leaf, bit), proof, root)).toBe('root-mismatch');
        expect(verify(index, size, leaf, proof, flip(root, bit))).toBe('root-mismatch');
        const other = (index + 1 + (pick % size)) % size;
        if (other !== index) expect(verify(other, size, leaf, proof, root)).toBeDefined();
        // Another size, with that size's real root.
        const otherSize = index + 1 + (pick % (LEAVES - index));
        if (otherSize !== size)
          expect(
            verify(index, otherSize, leaf, proof, roots[otherSize] as Uint8Array),
          ).toBeDefined();
        expect(verify(index, size, leaf, [...proof, root], root)).toBe('wrong-proof-length');
        if (proof.length > 0) {
          const at = pick % proof.length;
          const flipped = proof.map((p, j) => (j === at ? flip(p, bit) : p));
          expect(verify(index, size, leaf, flipped, root)).toBe('root-mismatch');
          expect(verify(index, size, leaf, proof.slice(0, -1), root)).toBe('wrong-proof-length');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('consistency', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), (pair, pick, bit) => {
        const [size2, below] = pair;
        const size1 = below + 1;
        const proof = log.consistencyProof(size1, size2);
        const [root1, root2] = [roots[size1] as Uint8Array, roots[size2] as Uint8Array];
        const verify = (s1: number, s2: number, r1: Uint8Array, r2: Uint8Array, p: Uint8Array[]) =>
          codeOf(() => verifyConsistency(BigInt(s1), BigInt(s2), r1, r2, p));
        expect(verify(size1, size2, root1, root2, proof)).toBeUndefined();

        expect(verify(size1, size2, flip(root1, bit), root2, proof)).toBeDefined();
        expect(verify(size1, size2, root1, flip(root2, bit), proof)).toBeDefined();
        expect(verify(size1, size2, root1, root2, [...proof, root1])).toBe('wrong-proof-length');
        const otherSize1 = 1 + (pick % size2);
        if (otherSize1 !== size1)
          expect(
            verify(otherSize1, size2, roots[otherSize1] as Uint8Array, root2, proof),
          ).toBeDefined();
        const otherSize2 = size1 + (pick % (LEAVES - size1 + 1));
        if (otherSize2 !== size2)
          expect(
            verify(size1, otherSize2, root1, roots[otherSize2] as Uint8Array, proof),
          ).toBeDefined();
        if (size1 !== size2) {
          expect(verify(size1, size2, root2, root1, proof)).toBe('root-mismatch');
          const at = pick % proof.length;
          const flipped = proof.map((p, j) => (j === at ? flip(p, bit) : p));
          expect(verify(size1, size2, root1, root2, flipped)).toBe('root-mismatch');
          expect(verify(size1, size2, root1, root2, proof.slice(0, -1))).toBe('wrong-proof-length');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('plans and storage', () => {
  it('covers a range with maximal aligned complete subtrees', () => {
    expect(rangeNodes(0, 0)).toEqual([]);
    expect(rangeNodes(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(rangeNodes(3, 13)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  it('names the nodes an ingest store would fetch, and folds the ephemeral node', () => {
    // Leaf 0 of 7: sibling leaf 1, node (1,1), then the ephemeral [4,7) = (1,2) + (0,6).
    expect(planInclusion(0, 7)).toEqual({
      ids: [
        { level: 0, index: 1 },
        { level: 1, index: 1 },
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
      counts: [1, 1, 2],
    });
    expect(planRoot(0)).toEqual({ ids: [], counts: [] });
    expect(planConsistency(4, 4)).toEqual({ ids: [], counts: [] });
  });

  it('serves proofs through any NodeReader, e.g. an async one via plan + assembleProof', async () => {
    const store = new MemoryNodeStore();
    const log = new MerkleLog(store);
    for (let i = 0; i < 100; i++) log.append(entry(i));
    const asyncReader = {
      getLogNodes: async (ids: readonly { level: number; index: number }[]) => store.readNodes(ids),
    };
    const plan = planInclusion(42, 77);
    expect(hexAll(assembleProof(plan, await asyncReader.getLogNodes(plan.ids)))).toEqual(
      hexAll(log.inclusionProof(42, 77)),
    );
    expect(hexAll(inclusionProofFrom(store, 3, 100))).toEqual(hexAll(log.inclusionProof(3)));
    expect(hexAll(consistencyProofFrom(store, 10, 90))).toEqual(
      hexAll(log.consistencyProof(10, 90)),
    );
    expect(toHex(rootFrom(store, 100))).toBe(toHex(log.root()));
    expect(toHex(rootFrom(store, 0))).toBe(toHex(EMPTY_ROOT));
    expect(store.leafCount).toBe(100);
  });

  it('resumes a log from its store and keeps appending identically', () => {
    const store = new MemoryNodeStore();
    const first = new MerkleLog(store);
    for (let i = 0; i < 37; i++) first.append(entry(i));
    const resumed = new MerkleLog(store, 37);
    const straight = logOf(Array.from({ length: 37 }, (_, i) => entry(i)));
    for (let i = 37; i < 80; i++) {
      expect(resumed.append(entry(i))).toBe(i);
      straight.append(entry(i));
    }
    expect(toHex(resumed.root())).toBe(toHex(straight.root()));
    expect(toHex(resumed.root(50))).toBe(toHex(straight.root(50)));
    expect(codeOf(() => new MerkleLog(store, 81))).toBe('missing-node');
    // Opening behind the store's end would rewrite existing nodes.
    expect(codeOf(() => new MerkleLog(store, 20).append(entry(0)))).toBe('out-of-order-write');
  });

  it('hands out copies, so editing a proof or root cannot corrupt the log', () => {
    const log = logOf(Array.from({ length: 9 }, (_, i) => entry(i)));
    const before = toHex(log.root());
    log.inclusionProof(0).forEach((p) => p.fill(0));
    log.root().fill(0);
    log.root(8).fill(0);
    const single = logOf([entry(0)]);
    single.root().fill(0);
    expect(toHex(single.root())).toBe(toHex(leafHash(entry(0))));
    expect(toHex(log.root())).toBe(before);
    expect(log.inclusionProof(0).every((p) => p.some((b) => b !== 0))).toBe(true);
  });

  it('refuses hostile input with a typed error naming the field', () => {
    const log = logOf([entry(0), entry(1), entry(2)]);
    const hostile: unknown[] = [-1, 1.5, Number.NaN, '1', null, 2n, Number.POSITIVE_INFINITY];
    for (const value of hostile) {
      expect(codeOf(() => log.inclusionProof(value as number))).toMatch(/bad-input|out-of-range/);
      expect(codeOf(() => log.consistencyProof(value as number))).toMatch(/bad-input|out-of-range/);
      expect(codeOf(() => log.root(value as number))).toMatch(/bad-input|out-of-range/);
      expect(codeOf(() => planInclusion(value as number, 5))).toMatch(/bad-input|out-of-range/);
      expect(codeOf(() => rangeNodes(0, value as number))).toMatch(/bad-input|out-of-range/);
    }
    expect(codeOf(() => log.inclusionProof(3))).toBe('out-of-range');
    expect(codeOf(() => log.root(4))).toBe('out-of-range');
    expect(codeOf(() => log.consistencyProof(0, 3))).toBe('out-of-range');
    expect(codeOf(() => log.consistencyProof(3, 2))).toBe('out-of-range');
    expect(codeOf(() => planInclusion(2 ** 53, 2 ** 53 + 1))).toBe('out-of-range');
    expect(codeOf(() => log.append('text' as unknown as Uint8Array))).toBe('bad-input');
    expect(codeOf(() => log.appendLeafHash(new Uint8Array(31)))).toBe('bad-input');
    expect(codeOf(() => new MerkleLog({} as MemoryNodeStore))).toBe('bad-input');
    expect(codeOf(() => assembleProof(planInclusion(0, 3), [new Uint8Array(32)]))).toBe(
      'bad-input',
    );
    expect(codeOf(() => new MemoryNodeStore().readNodes([{ level: 0, index: 0 }]))).toBe(
      'missing-node',
    );
    expect(() => log.inclusionProof(-1)).toThrow(/index/);
  });
});
