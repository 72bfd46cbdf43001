import {
  continueTrips,
  TRIP_SIGNALS,
  type TripDerivation,
  type TripEvent,
  type TripSample,
  type TripSummary,
} from '../analytics/index.js';
import type { BatchOrderCursor, IngestStore } from '../storage/ingest-store.js';

const TRIP_SIGNAL_NAMES = Object.values(TRIP_SIGNALS).map((s) => s.name);

/**
 * Batches read per step: an hour of a car's 10 s batches, some 70,000 trip samples; what one
 * step holds in memory, whatever the length of the vehicle's history.
 */
const BATCHES_PER_STEP = 360;

/**
 * The state is saved this long before the VIN's latest batch start: a second device of the
 * vehicle (a GNSS unit beside the OBD adapter) whose batches come up to a minute behind is
 * still taken in without starting over. A batch older than that (a gap filled in later) makes
 * the next request derive the vehicle's trips from the start again.
 */
const STATE_BEHIND_MS = 60_000;

/**
 * Vehicles whose derivation is kept: a vehicle's trips list grows with its history (a few
 * hundred bytes a trip), so a node serving many vehicles keeps those asked for most recently;
 * the others are derived from the start again when asked for.
 */
const DEFAULT_MAX_VEHICLES = 1_000;

/** The samples of one batch that a later read still needs. */
interface BatchSamples {
  readonly startTime: number;
  readonly samples: readonly TripSample[];
}

/** What was derived of a VIN's trips, and from which of its batches. */
interface Derived {
  readonly derivation: TripDerivation;
  /**
   * The samples at or after the state's time of batches that start before it: the next read
   * starts with the batches from the state's time on.
   */
  readonly tail: readonly BatchSamples[];
  /** The last leaf index of the VIN's batches it covers (−1: none). */
  readonly lastLeafIndex: number;
  /** The latest start among those batches. */
  readonly latestStart: number;
}

/**
 * Each vehicle's trips, derived on the node from its stored signed samples (deriveTrips) and
 * carried on as batches arrive: a request reads the batches stored since the last one (and
 * the minute before), not the vehicle's history, and the history itself is read an hour of
 * batches at a time, yielding to the node's other work between steps. The trips are the same
 * as deriveTrips over every sample (continueTrips; vehicle-trips.test.ts checks it step by
 * step). The cache holds per VIN its trips and a state of a few kilobytes, for the
 * `maxVehicles` asked for most recently.
 */
export class VehicleTrips {
  /** In the order they were last asked for, the oldest first. */
  private readonly derived = new Map<string, Derived>();
  /** Derivations in progress: concurrent requests for a VIN share one. */
  private readonly running = new Map<string, Promise<TripSummary[]>>();

  constructor(
    private readonly store: IngestStore,
    private readonly maxVehicles = DEFAULT_MAX_VEHICLES,
  ) {
    if (!Number.isSafeInteger(maxVehicles) || maxVehicles < 1)
      throw new RangeError(`maxVehicles: expected an integer ≥ 1, got ${maxVehicles}`);
  }

  /**
   * The VIN's trips as of its stored batches. A request made while a derivation runs gets that
   * one's answer, which may miss a batch stored meanwhile; the next request has it.
   */
  trips(vin: string): Promise<TripSummary[]> {
    let running = this.running.get(vin);
    if (!running) {
      running = this.refresh(vin).finally(() => this.running.delete(vin));
      this.running.set(vin, running);
    }
    return running;
  }

  private async refresh(vin: string): Promise<TripSummary[]> {
    const cached = this.derived.get(vin);
    const changes = await this.store.vehicleChanges(vin, cached?.lastLeafIndex ?? -1);
    if (cached && changes.batches === 0) {
      this.keep(vin, cached);
      return cached.derivation.trips;
    }
    const latestStart = Math.max(
      cached?.latestStart ?? Number.NEGATIVE_INFINITY,
      changes.latestStart ?? Number.NEGATIVE_INFINITY,
    );
    const saveAt = latestStart - STATE_BEHIND_MS;
    const events = await this.store.eventsByVin(vin);
    const from = cached?.derivation.state.at;
    const carryOn =
      cached && from !== undefined && (changes.earliestStart ?? Number.POSITIVE_INFINITY) >= from;
    const read =
      (carryOn ? await this.read(vin, events, saveAt, BATCHES_PER_STEP, cached) : undefined) ??
      (await this.read(vin, events, saveAt, BATCHES_PER_STEP)) ??
      // A step after the first brought the vehicle's first GNSS fix, which decides the night of
      // the time before it (continueTrips): only one step over the whole history is right then.
      (await this.read(vin, events, saveAt, Number.MAX_SAFE_INTEGER))!;
    this.keep(vin, {
      ...read,
      lastLeafIndex: changes.lastLeafIndex ?? cached?.lastLeafIndex ?? -1,
      latestStart,
    });
    return read.derivation.trips;
  }

  /** Caches `derived` as the most recently asked for; drops the least recent beyond the bound. */
  private keep(vin: string, derived: Derived): void {
    this.derived.delete(vin);
    this.derived.set(vin, derived);
    for (const oldest of this.derived.keys()) {
      if (this.derived.size <= this.maxVehicles) break;
      this.derived.delete(oldest);
    }
  }

  /**
   * Reads the VIN's batches in start order, `perStep` at a time, and carries the derivation on
   * over each step: from `from`'s state (its tail, then the batches from its time on) or from
   * the start. Undefined when a step cannot go on from the last one's state (continueTrips).
   */
  private async read(
    vin: string,
    events: readonly TripEvent[],
    saveAt: number,
    perStep: number,
    from?: Derived,
  ): Promise<Pick<Derived, 'derivation' | 'tail'> | undefined> {
    let state = from?.derivation.state;
    let carried: readonly BatchSamples[] = from?.tail ?? [];
    let after: BatchOrderCursor | undefined =
      state && Number.isFinite(state.at) ? { startTime: state.at, leafIndex: -1 } : undefined;
    for (;;) {
      const chunk = await this.store.sampleChunk({
        vin,
        batches: perStep,
        names: TRIP_SIGNAL_NAMES,
        ...(after ? { after } : {}),
      });
      const batches = [...carried, ...chunk.batches];
      const last = chunk.batches[chunk.batches.length - 1];
      // No batch after this step starts before its last one: everything earlier is complete.
      const bound = chunk.next && last ? Math.min(last.startTime, saveAt) : saveAt;
      const at = Math.max(state?.at ?? Number.NEGATIVE_INFINITY, bound);
      const derivation = continueTrips(
        state,
        batches.flatMap((b) => b.samples),
        events,
        at,
      );
      if (!derivation) return undefined;
      state = derivation.state;
      carried = batches
        .map((b) => ({ startTime: b.startTime, samples: b.samples.filter((x) => x.time >= at) }))
        .filter((b) => b.samples.length > 0);
      if (!chunk.next) {
        return { derivation, tail: carried.filter((b) => b.startTime < at) };
      }
      after = chunk.next;
      // A long history is read in many steps: let the node's other work run between them.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
