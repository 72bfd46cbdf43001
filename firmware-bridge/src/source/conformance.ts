/**
 * One conformance suite that every SignalSource implementation runs against itself (after
 * serialport/bindings-cpp `lib/bindings.test.ts`): the layers above rely on exactly these
 * behaviours, whatever the hardware. Test-only: not exported from the package.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading, SignalSource } from './types.js';

export interface ConformanceFixture {
  readonly source: SignalSource;
  /** Stops whatever the source talks to (emulator, pty, file). */
  teardown(): Promise<void>;
}

/** Reads until `count` readings arrived or `timeoutMs` passed. */
export async function takeReadings(
  source: SignalSource,
  count: number,
  timeoutMs = 10_000,
): Promise<Reading[]> {
  const out: Reading[] = [];
  const iterator = source.readings()[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), remaining);
    });
    const next = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (next === 'timeout' || next.done) break;
    out.push(next.value);
  }
  return out;
}

const VSS_NAME = /^Vehicle(\.[A-Z][A-Za-z0-9]*)+$/;

export function signalSourceConformance(
  name: string,
  setup: () => Promise<ConformanceFixture>,
): void {
  describe(`SignalSource conformance: ${name}`, () => {
    let fixture: ConformanceFixture | undefined;
    afterEach(async () => {
      if (fixture) {
        await fixture.source.close();
        await fixture.teardown();
        fixture = undefined;
      }
    });

    it('opens, reports isOpen, and yields readings with VSS names, units and time', async () => {
      fixture = await setup();
      const { source } = fixture;
      expect(source.isOpen).toBe(false);
      await source.open();
      expect(source.isOpen).toBe(true);
      const readings = await takeReadings(source, 5);
      expect(readings.length).toBe(5);
      for (const r of readings) {
        expect(r.name).toMatch(VSS_NAME);
        expect(typeof r.unit).toBe('string');
        expect(Number.isFinite(r.time)).toBe(true);
        expect(r.source).toBe(source.id);
        if (typeof r.value === 'number') expect(Number.isFinite(r.value)).toBe(true);
      }
    });

    it('keeps time non-decreasing per signal', async () => {
      fixture = await setup();
      await fixture.source.open();
      const readings = await takeReadings(fixture.source, 20);
      expect(readings.length).toBe(20);
      const last = new Map<string, number>();
      for (const r of readings) {
        expect(r.time).toBeGreaterThanOrEqual(last.get(r.name) ?? -Infinity);
        last.set(r.name, r.time);
      }
    });

    it('ends a pending read with done when closed, and close is idempotent', async () => {
      fixture = await setup();
      const { source } = fixture;
      await source.open();
      await takeReadings(source, 1);
      const iterator = source.readings()[Symbol.asyncIterator]();
      const pending = iterator.next();
      await source.close();
      await source.close();
      expect(source.isOpen).toBe(false);
      // A pending read either finishes with a reading already buffered or ends: never rejects.
      const result = await pending;
      if (!result.done) expect(result.value.name).toMatch(VSS_NAME);
      const after = await iterator.next();
      expect(after.done).toBe(true);
    });

    it('can be reopened after close', async () => {
      fixture = await setup();
      const { source } = fixture;
      await source.open();
      expect((await takeReadings(source, 1)).length).toBe(1);
      await source.close();
      await source.open();
      expect(source.isOpen).toBe(true);
      expect((await takeReadings(source, 1)).length).toBe(1);
    });
  });
}
