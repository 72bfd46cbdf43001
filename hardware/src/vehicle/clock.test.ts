import { describe, expect, it } from 'vitest';
import { VehicleClock } from './clock.js';
import { loadDriveCycle } from './drive-cycle.js';
import { VehicleSimulator } from './simulator.js';

describe('VehicleClock', () => {
  const sim = new VehicleSimulator({ cycle: loadDriveCycle('nycc'), noise: false });

  it('maps wall time × speedup to simulated time and stops at the end', () => {
    let wall = 1_000_000;
    const clock = new VehicleClock(sim, { speedup: 10, now: () => wall });
    expect(clock.timeS()).toBe(0);
    wall += 2_500;
    expect(clock.timeS()).toBe(25);
    expect(clock.provider()).toEqual(sim.snapshotAt(25));
    expect(clock.remainingMs()).toBeCloseTo(((598 - 25) * 1000) / 10, 6);
    expect(clock.finished).toBe(false);
    wall += 10_000_000;
    expect(clock.timeS()).toBe(598);
    expect(clock.finished).toBe(true);
    expect(clock.snapshot().timeS).toBe(598);
  });

  it('runs on the real clock by default', async () => {
    const clock = new VehicleClock(sim, { speedup: 100 });
    await new Promise((r) => setTimeout(r, 50));
    expect(clock.timeS()).toBeGreaterThan(3);
  });

  it('rejects a speedup that is not a positive number', () => {
    for (const speedup of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new VehicleClock(sim, { speedup })).toThrow(/speedup/);
    }
  });
});
