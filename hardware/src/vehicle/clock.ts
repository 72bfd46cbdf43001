import { SimulatorError } from './errors.js';
import type { VehicleSimulator } from './simulator.js';
import type { VehicleSnapshot, VehicleStateProvider } from './state.js';

export interface VehicleClockOptions {
  /** Simulated seconds per wall second. Default 1. */
  readonly speedup?: number;
  /** Wall clock in ms; injectable for tests. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Wall ms the vehicle stays parked at t = 0 (engine idling) before the cycle starts, so an
   * agent started after the simulator sees the whole cycle.
   */
  readonly holdMs?: number;
}

/**
 * Drives a `VehicleSimulator` from the wall clock: simulated seconds = wall seconds since
 * construction × speedup, held at the end of the cycle. Emulators call `provider` whenever
 * they answer, so every interface reports the vehicle as it is at that instant.
 */
export class VehicleClock {
  readonly speedup: number;
  startedAtMs: number;
  private readonly now: () => number;

  constructor(
    readonly simulator: VehicleSimulator,
    options: VehicleClockOptions = {},
  ) {
    this.speedup = options.speedup ?? 1;
    if (!(this.speedup > 0 && Number.isFinite(this.speedup))) {
      throw new SimulatorError('bad-input', 'speedup must be a positive number');
    }
    this.now = options.now ?? Date.now;
    const hold = options.holdMs ?? 0;
    if (!(hold >= 0 && Number.isFinite(hold)))
      throw new SimulatorError('bad-input', 'holdMs must be ≥ 0');
    this.startedAtMs = this.now() + hold;
  }

  /** Ends a hold early: the cycle starts now (e.g. once the agent under test is up). */
  release(): void {
    const now = this.now();
    if (now < this.startedAtMs) this.startedAtMs = now;
  }

  /** Simulated seconds elapsed, capped at the cycle's duration. */
  timeS(): number {
    const elapsed = ((this.now() - this.startedAtMs) / 1000) * this.speedup;
    return Math.min(this.simulator.durationS, Math.max(0, elapsed));
  }

  get finished(): boolean {
    return this.timeS() >= this.simulator.durationS;
  }

  /** Wall-clock ms left until the cycle ends. */
  remainingMs(): number {
    return Math.max(0, ((this.simulator.durationS - this.timeS()) * 1000) / this.speedup);
  }

  snapshot(): VehicleSnapshot {
    return this.simulator.snapshotAt(this.timeS());
  }

  readonly provider: VehicleStateProvider = () => this.snapshot();
}
