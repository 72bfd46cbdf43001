/**
 * RFC 9162 §2.1.1 hashing with SHA-256 from the crypto backend: node:crypto in Node,
 * @noble/hashes in the dashboard bundle, so the offline verifier runs unchanged in a browser.
 */
import { sha256 } from '../crypto/backend.js';

/** Bytes in every leaf, node and root hash. */
export const MERKLE_HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** MTH({}) = SHA-256 of the empty string: the root of a log with no leaves. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * Hash inputs are assembled in buffers reused from one call to the next (hashing only reads
 * them, synchronously): a new typed array over 64 bytes lives outside the V8 heap and costs
 * about as much as the hash itself, and the log hashes once per leaf and once per completed
 * subtree.
 */
let leafInput = new Uint8Array(256);
const nodeInput = new Uint8Array(1 + 2 * MERKLE_HASH_SIZE);
nodeInput[0] = NODE_PREFIX;

/** MTH({d}) = SHA-256(0x00 ‖ d). The prefix keeps a leaf from ever colliding with a node. */
export function leafHash(entry: Uint8Array): Uint8Array {
  if (!(entry instanceof Uint8Array)) throw new TypeError('entry: expected Uint8Array');
  if (entry.length + 1 > leafInput.length)
    leafInput = new Uint8Array(Math.max(entry.length + 1, 2 * leafInput.length));
  leafInput[0] = LEAF_PREFIX;
  leafInput.set(entry, 1);
  return sha256(leafInput.subarray(0, entry.length + 1));
}

/** SHA-256(0x01 ‖ left ‖ right), the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!(left instanceof Uint8Array) || left.length !== MERKLE_HASH_SIZE)
    throw new TypeError('left: expected a 32-byte Uint8Array');
  if (!(right instanceof Uint8Array) || right.length !== MERKLE_HASH_SIZE)
    throw new TypeError('right: expected a 32-byte Uint8Array');
  return hashChildren(left, right);
}

/** nodeHash without the boundary checks, for callers that already checked both hashes. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + MERKLE_HASH_SIZE);
  return sha256(nodeInput);
}
