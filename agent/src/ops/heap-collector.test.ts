import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { startHeapCollector } from './heap-collector.js';

const global = globalThis as { gc?: () => void };
const exposed = global.gc;

afterEach(() => {
  global.gc = exposed;
});

describe('startHeapCollector', () => {
  it('runs a full collection every period while started, and none after stop', async () => {
    setFlagsFromString('--expose-gc');
    const realGc = runInNewContext('gc') as () => void;
    let collections = 0;
    global.gc = () => {
      collections++;
      realGc();
    };
    const stop = startHeapCollector(20);
    await new Promise((r) => setTimeout(r, 110));
    stop();
    const seen = collections;
    expect(seen).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(collections).toBe(seen);
  });

  it('does nothing when gc is not exposed, and refuses a period that is not positive', () => {
    delete global.gc;
    expect(() => startHeapCollector(5_000)()).not.toThrow();
    expect(() => startHeapCollector(0)).toThrow(RangeError);
  });
});
