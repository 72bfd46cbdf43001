/**
 * The agent's one clock. Timestamps come from a monotonic counter (never goes backwards, even
 * when the board's RTC is reset or NTP steps it) plus an offset to UTC. The offset is taken
 * from GNSS when there is a fix, otherwise from the system clock; every change of offset
 * larger than `jumpThresholdMs` is recorded as a clock jump and travels in the next batch, so
 * a court sees where time was corrected instead of a silently rewritten series.
 */

export type ClockSource = 'gnss' | 'system' | 'unsynced';

export interface ClockJump {
  /** Monotonic-based time (ms, on the old offset) at which the correction was applied. */
  readonly at: number;
  /** New offset minus old offset, ms. */
  readonly deltaMs: number;
  readonly from: ClockSource;
  readonly to: ClockSource;
}

export interface AgentClockOptions {
  /** Monotonic milliseconds; injectable for tests. */
  readonly monotonicMs?: () => number;
  /** System wall clock in Unix ms; injectable for tests. */
  readonly systemMs?: () => number;
  /** Offset changes smaller than this are drift, not jumps. */
  readonly jumpThresholdMs?: number;
  /** A GNSS fix older than this no longer counts as the time source. */
  readonly gnssStaleMs?: number;
  /** Unix ms before which the system clock is considered unset (RTC without battery). */
  readonly plausibleAfterMs?: number;
  /**
   * How fast agent time runs against the monotonic clock: 1 in a car; N when a simulator plays
   * a drive cycle N× faster, so that timestamps and accelerations stay those of the vehicle.
   */
  readonly rate?: number;
}

export class AgentClock {
  private readonly mono: () => number;
  private readonly system: () => number;
  private readonly jumpThresholdMs: number;
  private readonly gnssStaleMs: number;
  private readonly plausibleAfterMs: number;
  private offset: number;
  private lastGnssFixMono = -Infinity;
  private lastStamp = -Infinity;
  private currentSource: ClockSource;
  private jumps: ClockJump[] = [];

  constructor(options: AgentClockOptions = {}) {
    const rate = options.rate ?? 1;
    if (!(rate >= 1)) throw new RangeError('rate must be ≥ 1');
    const monotonic = options.monotonicMs ?? (() => performance.now());
    this.mono = rate === 1 ? monotonic : () => monotonic() * rate;
    this.system = options.systemMs ?? Date.now;
    this.jumpThresholdMs = options.jumpThresholdMs ?? 1_000;
    this.gnssStaleMs = options.gnssStaleMs ?? 60_000;
    this.plausibleAfterMs = options.plausibleAfterMs ?? Date.UTC(2024, 0, 1);
    const sys = this.system();
    this.offset = sys - this.mono();
    this.currentSource = sys >= this.plausibleAfterMs ? 'system' : 'unsynced';
  }

  /** UTC milliseconds, strictly increasing across calls (ties broken by 1 µs). */
  now(): number {
    let t = this.mono() + this.offset;
    if (t <= this.lastStamp) t = this.lastStamp + 0.001;
    this.lastStamp = t;
    return t;
  }

  get source(): ClockSource {
    if (this.currentSource === 'gnss' && this.mono() - this.lastGnssFixMono > this.gnssStaleMs) {
      return 'system';
    }
    return this.currentSource;
  }

  /** A GNSS receiver reported UTC `gnssUtcMs` for an epoch received just now. */
  gnssFix(gnssUtcMs: number): void {
    if (!Number.isFinite(gnssUtcMs)) throw new RangeError('gnssUtcMs must be finite');
    const mono = this.mono();
    this.lastGnssFixMono = mono;
    this.setOffset(gnssUtcMs - mono, 'gnss');
  }

  /**
   * Re-reads the system clock (NTP stepped it, or set it at last on a board whose RTC has no
   * battery) and takes its offset; a change of a second or more is recorded as a jump. Once
   * GNSS has set the time the system clock is not consulted again: between fixes the
   * monotonic clock carries the GNSS time on, which beats a system clock that may never have
   * been synchronised and would make the time flap at every tunnel.
   */
  resyncSystem(): void {
    if (this.currentSource === 'gnss') return;
    const sys = this.system();
    if (sys < this.plausibleAfterMs) return;
    this.setOffset(sys - this.mono(), 'system');
  }

  /** Jumps recorded since the last call; the batcher puts them in the next batch. */
  takeJumps(): ClockJump[] {
    const j = this.jumps;
    this.jumps = [];
    return j;
  }

  private setOffset(offset: number, to: ClockSource): void {
    const delta = offset - this.offset;
    const from = this.currentSource;
    if (Math.abs(delta) >= this.jumpThresholdMs || from !== to) {
      if (Math.abs(delta) >= this.jumpThresholdMs) {
        this.jumps.push({ at: this.mono() + this.offset, deltaMs: delta, from, to });
      }
    }
    this.offset = offset;
    this.currentSource = to;
    // A backwards correction must not make timestamps go backwards: `now()` keeps them
    // increasing, and the jump record says by how much the series was corrected.
  }
}
