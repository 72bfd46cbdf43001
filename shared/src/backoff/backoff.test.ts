import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay (full jitter)', () => {
  it('stays below min(cap, base·2^attempt)', () => {
    const opts = { baseMs: 100, capMs: 5_000, random: () => 0.999999 };
    expect(backoffDelay(0, opts)).toBe(99);
    expect(backoffDelay(3, opts)).toBe(799);
    expect(backoffDelay(10, opts)).toBe(4_999);
    expect(backoffDelay(1_000, opts)).toBe(4_999);
  });
  it('can be zero (full jitter)', () => {
    expect(backoffDelay(5, { baseMs: 100, capMs: 5_000, random: () => 0 })).toBe(0);
  });
  it('rejects nonsense', () => {
    expect(() => backoffDelay(-1, { baseMs: 1, capMs: 2 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { baseMs: 0, capMs: 2 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { baseMs: 3, capMs: 2 })).toThrow(RangeError);
  });
});
