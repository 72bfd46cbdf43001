import { describe, expect, it } from 'vitest';
import { AgentClock } from './agent-clock.js';

function fakeTime(startMono = 0, startSystem = Date.UTC(2026, 10, 25)) {
  const t = { mono: startMono, system: startSystem };
  return {
    t,
    clock: new AgentClock({ monotonicMs: () => t.mono, systemMs: () => t.system }),
    advance(ms: number) {
      t.mono += ms;
      t.system += ms;
    },
  };
}

describe('AgentClock', () => {
  it('starts on the system clock and stamps strictly increasing times', () => {
    const { clock } = fakeTime();
    expect(clock.source).toBe('system');
    const a = clock.now();
    const b = clock.now();
    expect(a).toBe(Date.UTC(2026, 10, 25));
    expect(b).toBeGreaterThan(a);
  });

  it('treats an unset RTC (1970) as unsynced', () => {
    const t = { mono: 0 };
    const clock = new AgentClock({ monotonicMs: () => t.mono, systemMs: () => 5_000 });
    expect(clock.source).toBe('unsynced');
  });

  it('records a jump when GNSS corrects the time, and never goes backwards', () => {
    const { clock, advance } = fakeTime();
    advance(1_000);
    const before = clock.now();
    // GNSS says it is 30 s earlier than the system clock thought.
    clock.gnssFix(before - 30_000);
    expect(clock.source).toBe('gnss');
    const after = clock.now();
    expect(after).toBeGreaterThan(before);
    const jumps = clock.takeJumps();
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toMatchObject({ deltaMs: -30_000, from: 'system', to: 'gnss' });
    expect(clock.takeJumps()).toEqual([]);
    advance(31_000);
    expect(clock.now()).toBeCloseTo(before - 30_000 + 31_000, 6);
  });

  it('ignores drift below the threshold and falls back to system when GNSS goes stale', () => {
    const { clock, advance } = fakeTime();
    clock.gnssFix(clock.now() + 200);
    expect(clock.takeJumps()).toEqual([]);
    advance(61_000);
    expect(clock.source).toBe('system');
  });

  it('rejects a non-finite GNSS time', () => {
    expect(() => fakeTime().clock.gnssFix(Number.NaN)).toThrow(RangeError);
  });
});
