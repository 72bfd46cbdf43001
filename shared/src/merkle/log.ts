/**
 * The append-only log builder (after transparency-dev/merkle `compact` and `proof`): appends
 * keep a compact range (one hash per set bit of the size, the right border of the tree) and
 * write every subtree to the store as it completes; roots and proofs for any size up to the
 * current one are read back from the store through a plan.
 */
import { MerkleLogError } from './errors.js';
import { EMPTY_ROOT, MERKLE_HASH_SIZE, hashChildren, leafHash } from './hash.js';
import { assembleProof, planConsistency, planInclusion, planRoot, rangeNodes } from './plan.js';
import { MemoryNodeStore, type NodeReader, type NodeStore } from './store.js';

/** The inclusion proof of leaf `index` in the tree of `size` leaves, read from `reader`. */
export function inclusionProofFrom(reader: NodeReader, index: number, size: number): Uint8Array[] {
  const plan = planInclusion(index, size);
  return assembleProof(plan, reader.readNodes(plan.ids));
}

/** The consistency proof from `size1` to `size2` leaves, read from `reader`. */
export function consistencyProofFrom(
  reader: NodeReader,
  size1: number,
  size2: number,
): Uint8Array[] {
  const plan = planConsistency(size1, size2);
  return assembleProof(plan, reader.readNodes(plan.ids));
}

/** The root of the first `size` leaves, read from `reader`. */
export function rootFrom(reader: NodeReader, size: number): Uint8Array {
  const plan = planRoot(size);
  if (plan.ids.length === 0) return EMPTY_ROOT.slice();
  return assembleProof(plan, reader.readNodes(plan.ids))[0] as Uint8Array;
}

export class MerkleLog {
  readonly #store: NodeStore;
  #size: number;
  /** Hashes of the complete subtrees covering [0, size), largest first. */
  readonly #border: Uint8Array[];

  /**
   * A log over `store`, which already holds every node of the first `size` leaves (0 for a new
   * log). The compact range is rebuilt from the store, so a missing node fails here, not later.
   */
  constructor(store: NodeStore = new MemoryNodeStore(), size = 0) {
    if (typeof store?.readNodes !== 'function' || typeof store.writeNode !== 'function')
      throw new MerkleLogError('bad-input', 'store: expected a NodeStore (readNodes, writeNode)');
    checkSize('size', size);
    this.#store = store;
    this.#size = size;
    this.#border = store.readNodes(rangeNodes(0, size));
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /** Appends an entry (hashed as an RFC 9162 leaf) and returns its leaf index. */
  append(entry: Uint8Array): number {
    if (!(entry instanceof Uint8Array))
      throw new MerkleLogError('bad-input', 'entry: expected a Uint8Array');
    return this.appendLeafHash(leafHash(entry));
  }

  /** Appends a leaf by its hash (already SHA-256(0x00 ‖ entry)) and returns its leaf index. */
  appendLeafHash(leafHash: Uint8Array): number {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== MERKLE_HASH_SIZE)
      throw new MerkleLogError('bad-input', 'leafHash: expected a 32-byte Uint8Array');
    if (this.#size === Number.MAX_SAFE_INTEGER)
      throw new MerkleLogError(
        'out-of-range',
        'size: the log is at Number.MAX_SAFE_INTEGER leaves',
      );
    const leafIndex = this.#size;
    let hash: Uint8Array = leafHash.slice();
    this.#store.writeNode(0, leafIndex, hash);
    // Each trailing 1 bit of the old size is a completed subtree that merges with the new one.
    let level = 0;
    let index = leafIndex;
    while (index % 2 === 1) {
      hash = hashChildren(this.#border.pop() as Uint8Array, hash);
      level++;
      index = (index - 1) / 2;
      this.#store.writeNode(level, index, hash);
    }
    this.#border.push(hash);
    this.#size = leafIndex + 1;
    return leafIndex;
  }

  /** The root of the first `size` leaves (default: all), size ≤ the log's size. */
  root(size: number = this.#size): Uint8Array {
    this.#checkWithin('size', size);
    if (size !== this.#size) return rootFrom(this.#store, size);
    if (size === 0) return EMPTY_ROOT.slice();
    let hash = this.#border[this.#border.length - 1] as Uint8Array;
    for (let i = this.#border.length - 2; i >= 0; i--)
      hash = hashChildren(this.#border[i] as Uint8Array, hash);
    return this.#border.length === 1 ? hash.slice() : hash;
  }

  /** The inclusion proof of leaf `index` in the tree of `size` leaves (default: all). */
  inclusionProof(index: number, size: number = this.#size): Uint8Array[] {
    this.#checkWithin('size', size);
    return inclusionProofFrom(this.#store, index, size);
  }

  /** The consistency proof from `size1` to `size2` leaves (default: all); 0 < size1 ≤ size2. */
  consistencyProof(size1: number, size2: number = this.#size): Uint8Array[] {
    this.#checkWithin('size2', size2);
    return consistencyProofFrom(this.#store, size1, size2);
  }

  #checkWithin(field: string, size: number): void {
    checkSize(field, size);
    if (size > this.#size)
      throw new MerkleLogError(
        'out-of-range',
        `${field}: ${size} is beyond the log's ${this.#size} leaves`,
      );
  }
}

function checkSize(field: string, n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
    throw new MerkleLogError(
      'bad-input',
      `${field}: expected a non-negative integer, got ${String(n)}`,
    );
  if (n > Number.MAX_SAFE_INTEGER)
    throw new MerkleLogError('out-of-range', `${field}: ${n} is beyond Number.MAX_SAFE_INTEGER`);
}
