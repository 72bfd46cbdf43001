/**
 * Offline verification of RFC 9162 §2.1.3 inclusion and §2.1.4 consistency proofs.
 *
 * Stateless and self-contained on purpose: it imports nothing but a SHA-256 (via hash.ts) and
 * its error table, so an insurer's verifier or the browser dashboard can take this file alone.
 * The algorithm follows transparency-dev/merkle proof/verify.go: the proof length is derived
 * from the index and size first, then the root is chained, so a malformed proof is named as
 * such instead of surfacing as a root mismatch.
 *
 * Indices and sizes are unsigned 64-bit bigints and never pass through Number, which would
 * silently round values above 2^53 − 1.
 */
import { ProofError } from './errors.js';
import { hashChildren, MERKLE_HASH_SIZE } from './hash.js';

const U64_LIMIT = 1n << 64n;

/**
 * Checks that `proof` proves the leaf with hash `leafHash` sits at `leafIndex` in the tree of
 * `treeSize` leaves whose root is `root`. Returns nothing; throws ProofError with a code saying
 * why otherwise.
 *
 * Preconditions (checked before any hashing): 0 ≤ leafIndex < treeSize < 2^64; leafHash, root
 * and every proof element are exactly 32 bytes.
 */
export function verifyInclusion(
  leafIndex: bigint,
  treeSize: bigint,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): void {
  checkHash('root', root);
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  if (!equalBytes(computed, root))
    throw new ProofError('root-mismatch', 'root: the inclusion proof leads to a different root');
}

/**
 * The root that `proof` leads to from leaf `leafIndex` (hash `leafHash`) in a tree of
 * `treeSize` leaves. Same preconditions and errors as verifyInclusion, minus the root check;
 * useful when the root comes from a checkpoint that is verified afterwards.
 */
export function rootFromInclusionProof(
  leafIndex: bigint,
  treeSize: bigint,
  leafHash: Uint8Array,
  proof: Uint8Array[],
): Uint8Array {
  checkU64('leafIndex', leafIndex);
  checkU64('treeSize', treeSize);
  checkHash('leafHash', leafHash);
  checkProof(proof);
  if (leafIndex >= treeSize)
    throw new ProofError(
      'index-beyond-size',
      `leafIndex: ${leafIndex} is not below treeSize ${treeSize}`,
    );
  const { inner, border } = decomposeInclusionProof(leafIndex, treeSize);
  if (proof.length !== inner + border)
    throw new ProofError(
      'wrong-proof-length',
      `proof: has ${proof.length} hashes, leaf ${leafIndex} of ${treeSize} needs ${inner + border}`,
    );
  const hash = chainInner(leafHash, proof.slice(0, inner), leafIndex);
  return chainBorderRight(hash, proof.slice(inner));
}

/**
 * Checks that `proof` proves the tree of `size1` leaves with root `root1` is a prefix of the
 * tree of `size2` leaves with root `root2`. Throws ProofError otherwise.
 *
 * Preconditions (checked before any hashing): 0 < size1 ≤ size2 < 2^64 (a proof from the empty
 * tree is meaningless and refused); when size1 == size2 the proof must be empty and the roots
 * equal; every hash is exactly 32 bytes.
 */
export function verifyConsistency(
  size1: bigint,
  size2: bigint,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: Uint8Array[],
): void {
  checkU64('size1', size1);
  checkU64('size2', size2);
  checkHash('root1', root1);
  checkHash('root2', root2);
  checkProof(proof);
  if (size1 > size2)
    throw new ProofError('sizes-out-of-order', `size1: ${size1} is larger than size2 ${size2}`);
  if (size1 === 0n)
    throw new ProofError(
      'empty-tree',
      'size1: a consistency proof from the empty tree is meaningless',
    );
  if (size1 === size2) {
    if (proof.length !== 0)
      throw new ProofError(
        'wrong-proof-length',
        `proof: must be empty when size1 == size2, has ${proof.length} hashes`,
      );
    if (!equalBytes(root1, root2))
      throw new ProofError('root-mismatch', 'root2: differs from root1 for the same tree size');
    return;
  }

  // The proof is, in effect, the inclusion proof of the node that covers the last complete
  // subtree of size1, seen from level `shift`. When size1 is itself a power of two that node is
  // root1, which the client already holds, so the proof leaves it out.
  const { inner: fullInner, border } = decomposeInclusionProof(size1 - 1n, size2);
  const shift = trailingZeros(size1);
  const inner = fullInner - shift;
  const size1IsPowerOfTwo = size1 === 1n << BigInt(shift);
  const start = size1IsPowerOfTwo ? 0 : 1;
  if (proof.length !== start + inner + border)
    throw new ProofError(
      'wrong-proof-length',
      `proof: has ${proof.length} hashes, sizes ${size1} → ${size2} need ${start + inner + border}`,
    );
  const seed = size1IsPowerOfTwo ? root1 : (proof[0] as Uint8Array);
  const rest = proof.slice(start);
  const innerPart = rest.slice(0, inner);
  const borderPart = rest.slice(inner);
  const mask = (size1 - 1n) >> BigInt(shift);

  const hash1 = chainBorderRight(chainInnerRight(seed, innerPart, mask), borderPart);
  if (!equalBytes(hash1, root1))
    throw new ProofError(
      'root-mismatch',
      'root1: the consistency proof leads to a different first root',
    );
  const hash2 = chainBorderRight(chainInner(seed, innerPart, mask), borderPart);
  if (!equalBytes(hash2, root2))
    throw new ProofError(
      'root-mismatch',
      'root2: the consistency proof leads to a different second root',
    );
}

/**
 * Splits an inclusion proof into the `inner` part (siblings below the point where the paths to
 * the leaf and to the last leaf diverge) and the `border` part (left siblings above it).
 */
function decomposeInclusionProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  return { inner, border: popCount(index >> BigInt(inner)) };
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  let hash = seed;
  proof.forEach((sibling, level) => {
    hash =
      ((index >> BigInt(level)) & 1n) === 0n
        ? hashChildren(hash, sibling)
        : hashChildren(sibling, hash);
  });
  return hash;
}

/** Like chainInner but only takes left siblings: rebuilds the old root from its border. */
function chainInnerRight(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: bigint,
): Uint8Array {
  let hash = seed;
  proof.forEach((sibling, level) => {
    if (((index >> BigInt(level)) & 1n) === 1n) hash = hashChildren(sibling, hash);
  });
  return hash;
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let hash = seed;
  for (const sibling of proof) hash = hashChildren(sibling, hash);
  return hash;
}

function checkU64(field: string, value: bigint): void {
  if (typeof value !== 'bigint')
    throw new ProofError('bad-input', `${field}: expected a bigint, got ${typeof value}`);
  if (value < 0n || value >= U64_LIMIT)
    throw new ProofError('out-of-range', `${field}: ${value} is not an unsigned 64-bit integer`);
}

function checkHash(field: string, hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array))
    throw new ProofError('bad-input', `${field}: expected a Uint8Array`);
  if (hash.length !== MERKLE_HASH_SIZE)
    throw new ProofError(
      'bad-hash-length',
      `${field}: expected ${MERKLE_HASH_SIZE} bytes, got ${hash.length}`,
    );
}

function checkProof(proof: Uint8Array[]): void {
  if (!Array.isArray(proof))
    throw new ProofError('bad-input', 'proof: expected an array of hashes');
  proof.forEach((hash, i) => checkHash(`proof[${i}]`, hash));
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function popCount(n: bigint): number {
  let count = 0;
  for (let rest = n; rest > 0n; rest >>= 1n) count += Number(rest & 1n);
  return count;
}

function trailingZeros(n: bigint): number {
  let count = 0;
  for (let rest = n; (rest & 1n) === 0n; rest >>= 1n) count++;
  return count;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
