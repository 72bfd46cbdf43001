import { AgentClock, mergeSources, type SampledReading } from '@enginechain/agent';
import { Elm327Source } from '@enginechain/firmware-bridge';
import {
  loadDriveCycle,
  startElm327Server,
  VehicleClock,
  VehicleSimulator,
} from '@enginechain/hardware';
import { afterAll, describe, expect, it } from 'vitest';

// Issue 5: "A scheduler polls each signal at its configured rate (adaptive when an ELM327
// cannot keep up) and merges all sources into one time-ordered stream with monotonic
// timestamps."
//
// The simulated car on the ELM327 emulator over TCP, polled by the agent's ELM327 source at
// per-signal rates and merged on the agent clock. The adapter is fast, then answers every
// request 150 ms late (a slow clone, congested Wi-Fi), then fast again. While it is slow the
// demand (four 10 Hz PIDs in one request, ECT at 1 Hz, battery at 2 Hz: 12 requests/s) is
// about twice what it can answer: the slow signals keep their rates, the fast ones share
// what is left, and when it is fast again the rates come back without a burst of catch-up
// requests.

const RATES = {
  'Vehicle.Speed': 10,
  'Vehicle.Powertrain.CombustionEngine.Speed': 10,
  'Vehicle.OBD.ThrottlePosition': 10,
  'Vehicle.OBD.EngineLoad': 10,
  'Vehicle.Powertrain.CombustionEngine.ECT': 1,
  'Vehicle.LowVoltageBattery.CurrentVoltage': 2,
};
const PHASE_MS = { fast: 4_000, slow: 8_000, again: 4_000 };
const SLOW_DELAY_MS = 150;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** Readings per second of `name` among readings with from ≤ time < to (agent time). */
function rate(readings: readonly SampledReading[], name: string, from: number, to: number) {
  const n = readings.filter((r) => r.name === name && r.time >= from && r.time < to).length;
  return n / ((to - from) / 1_000);
}

describe('the agent polling an ELM327 that cannot keep up', () => {
  it('keeps slow signals at their rate, gives the fast ones what is left, and never bursts', async () => {
    const vehicle = new VehicleClock(
      new VehicleSimulator({ cycle: loadDriveCycle('hwfet'), noise: false }),
    );
    const elm = await startElm327Server({ vehicle: vehicle.provider, tcp: { host: '127.0.0.1', port: 0 } }); // prettier-ignore
    cleanups.push(() => elm.close());
    const source = new Elm327Source({ port: elm.url!, signals: RATES });
    cleanups.push(() => source.close());
    await source.open();
    const clock = new AgentClock();
    const readings: SampledReading[] = [];
    const collecting = (async () => {
      for await (const r of mergeSources([source], clock)) readings.push(r);
    })();

    const t0 = clock.now();
    await new Promise((r) => setTimeout(r, PHASE_MS.fast));
    const slowFrom = clock.now();
    elm.faults.delayMs = SLOW_DELAY_MS;
    await new Promise((r) => setTimeout(r, PHASE_MS.slow));
    const againFrom = clock.now();
    elm.faults.delayMs = 0;
    await new Promise((r) => setTimeout(r, PHASE_MS.again));
    const end = clock.now();
    await source.close();
    await collecting;

    // One time-ordered stream on the agent clock.
    for (let i = 1; i < readings.length; i++)
      expect(readings[i]!.time).toBeGreaterThan(readings[i - 1]!.time);

    // Skip the first second of each phase: requests already under way straddle the change.
    const phases = {
      fast: [t0 + 1_000, slowFrom],
      slow: [slowFrom + 1_000, againFrom],
      again: [againFrom + 1_000, end],
    } as const;
    const measured = Object.fromEntries(
      Object.entries(phases).map(([phase, [from, to]]) => [
        phase,
        Object.fromEntries(Object.keys(RATES).map((n) => [n, rate(readings, n, from, to)])),
      ]),
    ) as Record<keyof typeof phases, Record<keyof typeof RATES, number>>;
    console.info(`[elm327 scheduler] readings/s per phase: ${JSON.stringify(measured)}`);

    // Fast adapter: every signal at its configured rate.
    for (const [name, hz] of Object.entries(RATES))
      expect(measured.fast[name as keyof typeof RATES], `fast ${name}`).toBeGreaterThan(hz * 0.7);
    expect(measured.fast['Vehicle.Speed']).toBeLessThanOrEqual(11);

    // Slow adapter: the 1 Hz and 2 Hz signals keep their rates; the 10 Hz ones get what is
    // left (1000 / 150 ≈ 6.7 requests/s, 2 of them for the battery) and stay together.
    expect(measured.slow['Vehicle.Powertrain.CombustionEngine.ECT']).toBeGreaterThan(0.7);
    expect(measured.slow['Vehicle.LowVoltageBattery.CurrentVoltage']).toBeGreaterThan(1.5);
    const speed = measured.slow['Vehicle.Speed'];
    expect(speed).toBeGreaterThan(2.5);
    expect(speed).toBeLessThan(6);
    for (const name of [
      'Vehicle.Powertrain.CombustionEngine.Speed',
      'Vehicle.OBD.ThrottlePosition',
      'Vehicle.OBD.EngineLoad',
    ] as const)
      // prettier-ignore
      expect(Math.abs(measured.slow[name] - speed), name).toBeLessThan(0.5);

    // Fast again: back to the configured rates, and no catch-up burst in the first second.
    expect(measured.again['Vehicle.Speed']).toBeGreaterThan(7);
    expect(rate(readings, 'Vehicle.Speed', againFrom, againFrom + 1_000)).toBeLessThanOrEqual(11);
  }, 60_000);
});
