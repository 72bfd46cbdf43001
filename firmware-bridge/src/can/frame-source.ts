import type { CanFrame } from './frame.js';

/**
 * A producer of raw CAN frames (SLCAN adapter, SocketCAN interface, candump replay): the small
 * interface `DbcSignalSource` is written against, shaped like `SignalSource` so the same
 * lifecycle rules hold.
 *
 * - `open()` resolves once the device accepted its configuration (bitrate, open command) or
 *   the file could be opened; it rejects with an `AdapterError` (`no-adapter`, `unsupported`,
 *   `protocol`) otherwise.
 * - `frames()` may be called any number of times; all iterators draw from the one stream of the
 *   current open. A pending `next()` at `close()` resolves `done`, never rejects.
 * - A disconnect (serial port closed by the OS, interface gone) makes the iterator throw
 *   `DisconnectedError`. A replay that reaches the end of its log ends (`done`) instead.
 * - `close()` is idempotent and never throws.
 */
export interface CanFrameSource {
  /** Stable identifier, e.g. `slcan:/dev/ttyACM0`, `socketcan:can0`, `candump:drive.log`. */
  readonly id: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  frames(): AsyncIterable<CanFrame>;
}

/** A frame source that can also transmit (SLCAN, SocketCAN). */
export interface CanFrameSink {
  /** Resolves once the adapter accepted the frame; rejects with an `AdapterError` otherwise. */
  send(frame: CanFrame): Promise<void>;
}
