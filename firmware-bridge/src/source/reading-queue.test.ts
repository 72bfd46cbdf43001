import { describe, expect, it } from 'vitest';
import { DisconnectedError } from './errors.js';
import { ReadingQueue } from './reading-queue.js';
import type { Reading } from './types.js';

const r = (time: number): Reading => ({
  name: 'Vehicle.Speed',
  value: time,
  unit: 'km/h',
  time,
  source: 'test',
});

describe('ReadingQueue', () => {
  it('delivers pushed readings in order to waiting and later readers', async () => {
    const q = new ReadingQueue();
    const pending = q.next();
    q.push(r(1));
    q.push(r(2));
    expect((await pending).value).toEqual(r(1));
    expect((await q.next()).value).toEqual(r(2));
  });

  it('gives each reading to exactly one of several iterators', async () => {
    const q = new ReadingQueue();
    const a = q[Symbol.asyncIterator]();
    const b = q[Symbol.asyncIterator]();
    const pa = a.next();
    const pb = b.next();
    q.push(r(1));
    q.push(r(2));
    const got = [(await pa).value as Reading, (await pb).value as Reading].map((x) => x.time);
    expect(got).toEqual([1, 2]);
  });

  it('drains the buffer after end, then reports done, and resolves pending reads with done', async () => {
    const q = new ReadingQueue();
    q.push(r(1));
    q.end();
    expect((await q.next()).value).toEqual(r(1));
    expect((await q.next()).done).toBe(true);
    const q2 = new ReadingQueue();
    const pending = q2.next();
    q2.end();
    expect((await pending).done).toBe(true);
  });

  it('rejects pending and later reads after fail', async () => {
    const q = new ReadingQueue();
    const pending = q.next();
    q.fail(new DisconnectedError('unplugged'));
    await expect(pending).rejects.toBeInstanceOf(DisconnectedError);
    await expect(q.next()).rejects.toMatchObject({ code: 'disconnected' });
  });

  it('drops the oldest readings beyond its limit and counts them', async () => {
    const q = new ReadingQueue(3);
    for (let i = 1; i <= 5; i++) q.push(r(i));
    expect(q.dropped).toBe(2);
    expect((await q.next()).value).toEqual(r(3));
  });
});
