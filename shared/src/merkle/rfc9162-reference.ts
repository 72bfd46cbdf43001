/**
 * Test support, not exported: RFC 9162 §2.1 transcribed literally (recursive MTH, PATH,
 * PROOF/SUBPROOF over the list of entries), slow and obviously right, to cross-check the
 * builder, its plans and the verifier.
 */
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.js';

/** §2.1.1: the largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** §2.1.1 MTH(D[n]). */
export function referenceRoot(entries: readonly Uint8Array[]): Uint8Array {
  const n = entries.length;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leafHash(entries[0] as Uint8Array);
  const k = splitPoint(n);
  return nodeHash(referenceRoot(entries.slice(0, k)), referenceRoot(entries.slice(k)));
}

/** §2.1.3.1 PATH(m, D[n]). */
export function referenceInclusionProof(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  const n = entries.length;
  if (n <= 1) return [];
  const k = splitPoint(n);
  if (m < k)
    return [...referenceInclusionProof(m, entries.slice(0, k)), referenceRoot(entries.slice(k))];
  return [...referenceInclusionProof(m - k, entries.slice(k)), referenceRoot(entries.slice(0, k))];
}

/** §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
export function referenceConsistencyProof(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  return subproof(m, entries, true);
}

function subproof(m: number, entries: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = entries.length;
  if (m === n) return b ? [] : [referenceRoot(entries)];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, entries.slice(0, k), b), referenceRoot(entries.slice(k))];
  return [...subproof(m - k, entries.slice(k), false), referenceRoot(entries.slice(0, k))];
}
