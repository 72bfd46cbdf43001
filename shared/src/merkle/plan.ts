/**
 * Which stored nodes a proof or root needs, and how to fold them (after transparency-dev/merkle
 * proof/proof.go). Pure arithmetic on (level, index): storage stays outside, so the in-memory
 * store, SQLite (ingest's log_nodes table) or tiles can all serve the same plan.
 *
 * Sizes and indices are JavaScript safe integers (< 2^53). Only arithmetic is used on them,
 * never the 32-bit bit operators.
 */
import { MerkleLogError } from './errors.js';
import { MERKLE_HASH_SIZE, hashChildren } from './hash.js';

/** A complete subtree: leaves [index·2^level, (index+1)·2^level). Level 0 nodes are leaf hashes. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/**
 * The nodes to fetch, in use order, and how they group into proof elements: element i is the
 * right-to-left fold (nodeHash(a, nodeHash(b, c))…) of the next `counts[i]` fetched hashes.
 * A count above 1 stands for an "ephemeral" node: the root of an incomplete subtree, which is
 * never stored and is rebuilt from the complete subtrees covering it.
 */
export interface ProofPlan {
  readonly ids: readonly NodeId[];
  readonly counts: readonly number[];
}

/** The complete subtrees covering leaves [begin, end), left to right, each as large as alignment allows. */
export function rangeNodes(begin: number, end: number): NodeId[] {
  checkSize('begin', begin);
  checkSize('end', end);
  if (begin > end) throw new MerkleLogError('out-of-range', `begin: ${begin} is beyond end ${end}`);
  const out: NodeId[] = [];
  let at = begin;
  while (at < end) {
    let width = 1;
    let level = 0;
    while (at % (width * 2) === 0 && at + width * 2 <= end) {
      width *= 2;
      level++;
    }
    out.push({ level, index: at / width });
    at += width;
  }
  return out;
}

/** The plan for the root of the first `size` leaves (one element; size 0 has no nodes). */
export function planRoot(size: number): ProofPlan {
  checkSize('size', size);
  const ids = rangeNodes(0, size);
  return { ids, counts: ids.length === 0 ? [] : [ids.length] };
}

/** The plan for the RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves. */
export function planInclusion(index: number, size: number): ProofPlan {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size)
    throw new MerkleLogError('out-of-range', `index: ${index} is not below size ${size}`);
  // PATH(m, D[offset : offset+width]) descends to the subtree holding the leaf; each step adds
  // the other subtree. Collected top-down, the proof lists them bottom-up.
  const groups: NodeId[][] = [];
  let offset = 0;
  let width = size;
  let m = index;
  while (width > 1) {
    const k = largestPowerOfTwoBelow(width);
    if (m < k) {
      groups.push(rangeNodes(offset + k, offset + width));
      width = k;
    } else {
      groups.push(rangeNodes(offset, offset + k));
      offset += k;
      m -= k;
      width -= k;
    }
  }
  return fromGroups(groups.reverse());
}

/** The plan for the RFC 9162 §2.1.4.1 consistency proof from `size1` to `size2` leaves (0 < size1 ≤ size2). */
export function planConsistency(size1: number, size2: number): ProofPlan {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size1 > size2)
    throw new MerkleLogError('out-of-range', `size1: ${size1} is larger than size2 ${size2}`);
  if (size1 === 0)
    throw new MerkleLogError(
      'out-of-range',
      'size1: a consistency proof from the empty tree is meaningless',
    );
  // SUBPROOF(m, D[offset : offset+width], b), unrolled. `known` is b: true while the subtree
  // boundary is still one the verifier holds the hash of (root1 itself).
  const groups: NodeId[][] = [];
  let offset = 0;
  let width = size2;
  let m = size1;
  let known = true;
  while (m !== width) {
    const k = largestPowerOfTwoBelow(width);
    if (m <= k) {
      groups.push(rangeNodes(offset + k, offset + width));
      width = k;
    } else {
      groups.push(rangeNodes(offset, offset + k));
      offset += k;
      m -= k;
      width -= k;
      known = false;
    }
  }
  if (!known) groups.push(rangeNodes(offset, offset + width));
  return fromGroups(groups.reverse());
}

/** Folds fetched hashes (in `plan.ids` order) into the proof elements, or into the one root. */
export function assembleProof(plan: ProofPlan, hashes: readonly Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(hashes) || hashes.length !== plan.ids.length)
    throw new MerkleLogError(
      'bad-input',
      `hashes: expected ${plan.ids.length} node hashes, got ${Array.isArray(hashes) ? hashes.length : typeof hashes}`,
    );
  hashes.forEach((hash, i) => {
    if (!(hash instanceof Uint8Array) || hash.length !== MERKLE_HASH_SIZE)
      throw new MerkleLogError('bad-input', `hashes[${i}]: expected a 32-byte Uint8Array`);
  });
  const proof: Uint8Array[] = [];
  let start = 0;
  for (const count of plan.counts) {
    const end = start + count;
    let hash = hashes[end - 1] as Uint8Array;
    for (let i = end - 2; i >= start; i--) hash = hashChildren(hashes[i] as Uint8Array, hash);
    proof.push(hash);
    start = end;
  }
  return proof;
}

function fromGroups(groups: readonly NodeId[][]): ProofPlan {
  return { ids: groups.flat(), counts: groups.map((g) => g.length) };
}

/** Largest power of two strictly below n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(field: string, n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n))
    throw new MerkleLogError('bad-input', `${field}: expected an integer, got ${String(n)}`);
  if (n < 0 || n > Number.MAX_SAFE_INTEGER)
    throw new MerkleLogError(
      'out-of-range',
      `${field}: ${n} is outside 0..Number.MAX_SAFE_INTEGER`,
    );
}
