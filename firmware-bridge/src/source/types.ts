/**
 * The one interface every signal source implements (ELM327, SLCAN, SocketCAN, candump replay,
 * NMEA GNSS, IMU), after node-serialport's bindings-interface: the layers above (scheduler,
 * agent) are written once against it.
 */

/** A single typed value read from the vehicle, named by its COVESA VSS path. */
export interface Reading {
  /** COVESA VSS path, e.g. `Vehicle.Speed`. */
  readonly name: string;
  /** Numeric for physical quantities; string for enumerations and identifiers (VIN, DTC). */
  readonly value: number | string | boolean;
  /** VSS unit, e.g. `km/h`, `rpm`, `celsius`, `percent`, `V`, `m/s^2`. */
  readonly unit: string;
  /**
   * Milliseconds on the source's clock: Unix epoch ms for live sources (the host clock at
   * receipt, or the GNSS time for NMEA), the log's own time base for replays.
   */
  readonly time: number;
  /** Which source produced it, e.g. `elm327:tcp://127.0.0.1:35000`, `slcan:/dev/ttyACM0`. */
  readonly source: string;
}

/**
 * A source of readings.
 *
 * - `open()` resolves once the device answered its initialisation; it rejects with an
 *   `AdapterError` subclass when the device is absent or does not speak the protocol.
 * - `readings()` may be called any number of times; all iterators draw from the one stream of
 *   the current open (each reading goes to exactly one `next()`). Iterators end (`done`) after
 *   `close()`; a pending `next()` at close resolves `done`, never rejects. `ReadingQueue`
 *   implements exactly this; sources use it rather than writing their own.
 * - A disconnect (port closed by the OS, TCP reset, no reply within the source's timeout
 *   repeatedly) makes the iterator throw `DisconnectedError`; `ReconnectingSource` turns that
 *   into reopen-with-backoff for callers that want the stream to go on.
 * - `close()` is idempotent and never throws.
 */
export interface SignalSource {
  /** Stable identifier used as `Reading.source`. */
  readonly id: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  readings(): AsyncIterable<Reading>;
}
