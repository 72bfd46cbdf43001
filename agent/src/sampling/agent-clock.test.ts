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

  it('records the jump when the system clock is set after a boot without RTC, and nothing for drift', () => {
    const t = { mono: 0, system: 5_000 };
    const clock = new AgentClock({ monotonicMs: () => t.mono, systemMs: () => t.system });
    expect(clock.source).toBe('unsynced');
    t.mono = t.system = 10_000;
    const before = clock.now();
    // NTP steps the clock to today.
    t.system = Date.UTC(2026, 10, 25);
    clock.resyncSystem();
    expect(clock.source).toBe('system');
    const after = clock.now();
    expect(after).toBeCloseTo(Date.UTC(2026, 10, 25), 6);
    expect(clock.takeJumps()).toEqual([
      { at: before, deltaMs: Date.UTC(2026, 10, 25) - before, from: 'unsynced', to: 'system' },
    ]);
    // Half a second of slew later: applied, not a jump.
    t.mono += 10_000;
    t.system += 10_500;
    clock.resyncSystem();
    expect(clock.takeJumps()).toEqual([]);
    expect(clock.now()).toBeCloseTo(Date.UTC(2026, 10, 25) + 10_500, 6);
  });

  it('keeps GNSS time between fixes instead of going back to the system clock', () => {
    const { clock, advance, t } = fakeTime();
    clock.gnssFix(t.system + 120_000); // the system clock is two minutes slow
    clock.takeJumps();
    advance(90_000); // a tunnel: the fix is stale
    clock.resyncSystem();
    expect(clock.takeJumps()).toEqual([]);
    expect(clock.now()).toBeCloseTo(t.system + 120_000, 6);
  });

  it('rejects a non-finite GNSS time', () => {
    expect(() => fakeTime().clock.gnssFix(Number.NaN)).toThrow(RangeError);
  });
});
