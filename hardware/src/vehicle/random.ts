/**
 * Deterministic randomness for the simulator. Two kinds: a sequential PRNG (mulberry32) for
 * things generated once (the road), and a counter-based hash for per-instant noise, so that
 * `snapshotAt(t)` stays a pure function of `t` whatever order it is called in.
 */

/** mulberry32: tiny, fast, good enough for simulation (not for cryptography). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** murmur3's 32-bit finaliser over three words: a stateless hash for counter-based noise. */
function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  h ^= Math.imul(c ^ 0x165667b1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A standard normal variate that depends only on (seed, channel, index): Box–Muller over two
 * hashed uniforms in (0, 1).
 */
export function gaussianAt(seed: number, channel: number, index: number): number {
  const u1 = (hash3(seed, channel, index * 2) + 1) / 4294967297;
  const u2 = (hash3(seed, channel, index * 2 + 1) + 1) / 4294967297;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
