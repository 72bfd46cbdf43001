import { describe, expect, it } from 'vitest';
import { PipelineAdmission } from './pipeline-admission.js';

describe('PipelineAdmission', () => {
  it('admits up to its limit at once, then one per release, in the order asked', async () => {
    const a = new PipelineAdmission(2);
    const order: number[] = [];
    const asked = [0, 1, 2, 3, 4].map((i) => a.admit().then(() => order.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    expect([a.inPipeline, a.waiting]).toEqual([2, 3]);
    a.release();
    await asked[2];
    expect(order).toEqual([0, 1, 2]);
    expect([a.inPipeline, a.waiting]).toEqual([2, 2]);
    a.release();
    a.release();
    await Promise.all(asked);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect([a.inPipeline, a.waiting]).toEqual([2, 0]);
    a.release();
    a.release();
    expect([a.inPipeline, a.waiting]).toEqual([0, 0]);
    expect(() => a.release()).toThrow(/without an admitted batch/);
  });

  it('a newcomer does not overtake those waiting when a place frees', async () => {
    const a = new PipelineAdmission(1);
    await a.admit();
    const order: string[] = [];
    const first = a.admit().then(() => order.push('waiting'));
    a.release();
    const late = a.admit().then(() => order.push('newcomer'));
    await first;
    a.release();
    await late;
    expect(order).toEqual(['waiting', 'newcomer']);
  });

  it('stays correct over many cycles (its queue is compacted)', async () => {
    const a = new PipelineAdmission(3);
    let done = 0;
    const all = Array.from({ length: 5_000 }, () => a.admit().then(() => done++));
    for (let i = 0; i < 5_000; i++) {
      await Promise.resolve();
      a.release();
    }
    await Promise.all(all);
    expect(done).toBe(5_000);
    expect([a.inPipeline, a.waiting]).toEqual([0, 0]);
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const limit of [0, -1, 1.5, Number.NaN])
      expect(() => new PipelineAdmission(limit)).toThrow(RangeError);
  });
});
