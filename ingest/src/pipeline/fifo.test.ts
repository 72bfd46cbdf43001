import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  it('gives items back in order across compactions, and peeks without taking', () => {
    const q = new Fifo<number>();
    expect([q.size, q.peek(), q.shift()]).toEqual([0, undefined, undefined]);
    let next = 0;
    // Pushes outpace takes, so the queue never drains and has to compact as it goes.
    for (let i = 0; i < 10_000; i++) {
      q.push(2 * i);
      q.push(2 * i + 1);
      expect(q.peek()).toBe(next);
      expect(q.shift()).toBe(next++);
    }
    expect(q.size).toBe(10_000);
    while (q.size > 0) expect(q.shift()).toBe(next++);
    expect(next).toBe(20_000);
    q.push(7);
    q.clear();
    expect([q.size, q.shift()]).toEqual([0, undefined]);
  });
});
