import { describe, expect, it } from 'vitest';
import { PipelineAdmission } from './pipeline-admission.js';

describe('PipelineAdmission', () => {
  it('admits up to its limit at once, then one per release, in the order asked', async () => {
    const a = new PipelineAdmission(2);
    const order: number[] = [];
    const asked = [0, 1, 2, 3, 4].map((i) => a.admit(100).then(() => order.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    expect([a.inPipeline, a.waiting]).toEqual([2, 3]);
    a.release(100);
    await asked[2];
    expect(order).toEqual([0, 1, 2]);
    expect([a.inPipeline, a.waiting]).toEqual([2, 2]);
    a.release(100);
    a.release(100);
    await Promise.all(asked);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect([a.inPipeline, a.waiting]).toEqual([2, 0]);
    a.release(100);
    a.release(100);
    expect([a.inPipeline, a.waiting]).toEqual([0, 0]);
    expect(() => a.release(100)).toThrow(/without an admitted batch/);
  });

  it('a newcomer does not overtake those waiting when a place frees', async () => {
    const a = new PipelineAdmission(1);
    await a.admit(100);
    const order: string[] = [];
    const first = a.admit(100).then(() => order.push('waiting'));
    a.release(100);
    const late = a.admit(100).then(() => order.push('newcomer'));
    await first;
    a.release(100);
    await late;
    expect(order).toEqual(['waiting', 'newcomer']);
  });

  it('stays correct over many cycles (its queue is compacted)', async () => {
    const a = new PipelineAdmission(3);
    let done = 0;
    const all = Array.from({ length: 5_000 }, () => a.admit(100).then(() => done++));
    for (let i = 0; i < 5_000; i++) {
      await Promise.resolve();
      a.release(100);
    }
    await Promise.all(all);
    expect(done).toBe(5_000);
    expect([a.inPipeline, a.waiting]).toEqual([0, 0]);
  });

  it('admits by bytes as well: as many waiting as fit, in order, and an oversized batch alone', async () => {
    const a = new PipelineAdmission(100, 1_000);
    const order: string[] = [];
    const ask = (name: string, bytes: number) => a.admit(bytes).then(() => order.push(name));
    const asked = [ask('a', 600), ask('b', 300), ask('c', 200), ask('d', 5_000), ask('e', 50)];
    await Promise.all(asked.slice(0, 2));
    // c would make 1,100 bytes; e fits but does not overtake c and d.
    expect(order).toEqual(['a', 'b']);
    expect([a.inPipeline, a.bytesInPipeline, a.waiting]).toEqual([2, 900, 3]);
    a.release(600);
    await asked[2];
    expect(order).toEqual(['a', 'b', 'c']);
    expect([a.inPipeline, a.bytesInPipeline, a.waiting]).toEqual([2, 500, 2]);
    // d is larger than the whole budget: it goes in once the pipeline is empty, alone.
    a.release(300);
    await Promise.resolve();
    expect(order).toEqual(['a', 'b', 'c']);
    a.release(200);
    await asked[3];
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect([a.inPipeline, a.bytesInPipeline, a.waiting]).toEqual([1, 5_000, 1]);
    a.release(5_000);
    await asked[4];
    expect([a.inPipeline, a.bytesInPipeline, a.waiting]).toEqual([1, 50, 0]);
    expect(() => a.release(51)).toThrow(/more than the 50 admitted/);
    a.release(50);
    expect([a.inPipeline, a.bytesInPipeline]).toEqual([0, 0]);
  });

  it('says when it is idle: nothing admitted and nothing waiting', async () => {
    const a = new PipelineAdmission(1);
    await a.whenIdle();
    await a.admit(10);
    const second = a.admit(20);
    let idle = false;
    const whenIdle = a.whenIdle().then(() => (idle = true));
    a.release(10); // the second takes its place: not idle yet
    await second;
    await Promise.resolve();
    expect(idle).toBe(false);
    a.release(20);
    await whenIdle;
    expect(idle).toBe(true);
    await a.whenIdle();
  });

  it('refuses limits and sizes that are not integers in range', () => {
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(() => new PipelineAdmission(limit)).toThrow(RangeError);
      expect(() => new PipelineAdmission(1, limit)).toThrow(RangeError);
    }
    const a = new PipelineAdmission(1);
    for (const bytes of [-1, 0.5, Number.NaN]) {
      expect(() => a.admit(bytes)).toThrow(RangeError);
      expect(() => a.release(bytes)).toThrow(RangeError);
    }
  });
});
