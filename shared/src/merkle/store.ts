/**
 * Node storage behind the log builder. The builder writes every complete subtree once, when it
 * completes, and reads back only the nodes a plan (plan.ts) names, so a store can be anything
 * addressable by (level, index): memory here, SQLite in the ingest node.
 */
import { MerkleLogError } from './errors.js';
import { MERKLE_HASH_SIZE } from './hash.js';
import type { NodeId } from './plan.js';

/** Reads complete-subtree hashes. Throws MerkleLogError('missing-node') for a node it lacks. */
export interface NodeReader {
  /** One 32-byte hash per id, in order. The caller may keep and mutate what it gets. */
  readNodes(ids: readonly NodeId[]): Uint8Array[];
}

export interface NodeStore extends NodeReader {
  /**
   * Stores the hash of complete subtree (level, index). The builder writes each level in index
   * order, exactly once per node; the store may copy `hash` or keep it, the builder never
   * mutates it afterwards.
   */
  writeNode(level: number, index: number, hash: Uint8Array): void;
}

/** Nodes per chunk: 8,192 × 32 B = 256 KiB, so 10M leaves are ~2,500 chunks, not 20M objects. */
const CHUNK_NODES = 8192;
const CHUNK_BYTES = CHUNK_NODES * MERKLE_HASH_SIZE;

/**
 * Every node hash packed per level into contiguous 256 KiB chunks: 64 bytes per leaf in total
 * (a leaf hash plus, amortised, one interior node), about 640 MB for 10M leaves, outside the JS
 * heap. Nodes must be written in order per level, which is what appending produces.
 */
export class MemoryNodeStore implements NodeStore {
  readonly #levels: Uint8Array[][] = [];
  readonly #counts: number[] = [];

  /** Leaf hashes held, i.e. the largest log size this store can serve. */
  get leafCount(): number {
    return this.#counts[0] ?? 0;
  }

  /** Bytes allocated for node hashes (whole chunks, including unused tails). */
  get allocatedBytes(): number {
    return this.#levels.reduce((sum, chunks) => sum + chunks.length * CHUNK_BYTES, 0);
  }

  writeNode(level: number, index: number, hash: Uint8Array): void {
    if (!(hash instanceof Uint8Array) || hash.length !== MERKLE_HASH_SIZE)
      throw new MerkleLogError('bad-input', 'hash: expected a 32-byte Uint8Array');
    while (this.#levels.length <= level) {
      this.#levels.push([]);
      this.#counts.push(0);
    }
    const count = this.#counts[level] as number;
    if (index !== count)
      throw new MerkleLogError(
        'out-of-order-write',
        `index: level ${level} holds ${count} nodes, cannot write node ${index}`,
      );
    const chunks = this.#levels[level] as Uint8Array[];
    const offset = (index % CHUNK_NODES) * MERKLE_HASH_SIZE;
    if (offset === 0) chunks.push(new Uint8Array(CHUNK_BYTES));
    (chunks[chunks.length - 1] as Uint8Array).set(hash, offset);
    this.#counts[level] = count + 1;
  }

  readNodes(ids: readonly NodeId[]): Uint8Array[] {
    return ids.map(({ level, index }) => {
      if (!(index < (this.#counts[level] ?? 0)))
        throw new MerkleLogError('missing-node', `node (${level}, ${index}) is not in the store`);
      const chunk = (this.#levels[level] as Uint8Array[])[
        Math.floor(index / CHUNK_NODES)
      ] as Uint8Array;
      const offset = (index % CHUNK_NODES) * MERKLE_HASH_SIZE;
      // A copy, so a caller that edits a proof cannot corrupt the log.
      return chunk.slice(offset, offset + MERKLE_HASH_SIZE);
    });
  }
}
