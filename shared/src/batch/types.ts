/**
 * The signed content of one batch (docs/wire-format.md, "Batch payload"). These types mirror
 * the wire exactly: what you see here is what the device signed, nothing is derived.
 */

/** Why the batch exists; drives delivery order (trace, then event, then routine). */
export type BatchKind = 'routine' | 'event' | 'trace';

/** Where the batch's wall-clock time came from. */
export type ClockSource = 'gnss' | 'ntp' | 'system' | 'rtc' | 'unsynced';

/** A correction of the device clock while recording (the agent never rewrites past samples). */
export interface ClockJumpRecord {
  /** Unix ms, on the old clock, at which the correction was applied. */
  readonly at: number;
  /** New offset minus old offset, ms (negative: the clock went back). */
  readonly deltaMs: number;
  readonly from: ClockSource;
  readonly to: ClockSource;
}

export interface BatchClock {
  /** Source of the time base at `start`. */
  readonly source: ClockSource;
  readonly jumps: readonly ClockJumpRecord[];
}

/**
 * The values of one column. Numbers are stored as integers × 10^exponent when that gives back
 * exactly the same double (speeds, temperatures, coordinates at 1e-7°); otherwise as floats.
 */
export type ColumnValues =
  | { readonly type: 'scaled'; readonly exponent: number; readonly integers: readonly number[] }
  | { readonly type: 'float'; readonly numbers: readonly number[] }
  | { readonly type: 'string'; readonly strings: readonly string[] }
  | { readonly type: 'boolean'; readonly booleans: readonly boolean[] };

/** All samples of one VSS signal in a batch, columnar. */
export interface SignalColumn {
  /** COVESA VSS path, e.g. `Vehicle.Speed`. Unique within a batch. */
  readonly name: string;
  /** VSS unit, e.g. `km/h`. */
  readonly unit: string;
  /** ms; the first from the batch `start`, each next one from the previous sample (≥ 0). */
  readonly timeDeltas: readonly number[];
  readonly values: ColumnValues;
}

/** A crash trace attached to an event; the trace travels as its own batch of kind `trace`. */
export interface TraceReference {
  /** Agent-chosen id, also carried by the trace batch's own crash event. */
  readonly id: string;
  /** SHA-256 of the trace batch's COSE bytes, when it was already signed. */
  readonly hash?: Uint8Array;
}

export type EventPriority = 'critical' | 'high' | 'normal';

export interface BatchEvent {
  /** e.g. `harsh-braking`, `crash`, `dtc-set` (docs/events.md). */
  readonly type: string;
  readonly priority: EventPriority;
  /** Unix ms. */
  readonly start: number;
  /** Unix ms, ≥ start (equal for instantaneous events). */
  readonly end: number;
  readonly data: Readonly<Record<string, number | string>>;
  readonly trace?: TraceReference;
}

/** A batch the agent evicted under its disk quota before delivery, declared so the gap is explained. */
export interface DroppedBatch {
  readonly seq: number;
  /** SHA-256 of the evicted batch's COSE bytes (the `prev` of the batch after it). */
  readonly hash: Uint8Array;
  /** Samples it held. */
  readonly samples: number;
  /** Unix ms of its first and last sample. */
  readonly start: number;
  readonly end: number;
}

export interface BatchPayload {
  /** Payload format version: 1. */
  readonly version: number;
  readonly kind: BatchKind;
  /** Lower-case hex device id (32 digits); must equal the COSE kid. */
  readonly deviceId: string;
  /** ISO 3779 VIN, or null when the vehicle did not report one. */
  readonly vin: string | null;
  /** Per device, from 0, no gaps. */
  readonly seq: number;
  /** SHA-256 of the previous batch's full COSE bytes; 32 zero bytes at seq 0. */
  readonly prev: Uint8Array;
  /** Unix ms; time base of the signal columns. */
  readonly start: number;
  readonly clock: BatchClock;
  readonly signals: readonly SignalColumn[];
  readonly events: readonly BatchEvent[];
  readonly dropped: readonly DroppedBatch[];
}

/** One sample as readings carry it (`Reading` from firmware-bridge fits). */
export interface BatchSample {
  readonly name: string;
  readonly unit: string;
  /** Unix ms; batches keep 1 ms resolution. */
  readonly time: number;
  readonly value: number | string | boolean;
}
