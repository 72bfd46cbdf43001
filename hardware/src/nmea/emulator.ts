import { mulberry32 } from '../vehicle/random.js';
import type { VehicleStateProvider } from '../vehicle/state.js';
import { startLineEmitter, type LineEmitter } from './line-emitter.js';
import { formatEpoch, type NmeaFormatOptions } from './sentences.js';

export interface NmeaEmulatorOptions extends NmeaFormatOptions {
  readonly provider: VehicleStateProvider;
  /** Epochs per second, 1–10 (what GNSS receivers offer). Default 1. */
  readonly rateHz?: number;
  /** Serial device to write to; default a new pty pair whose host end is returned. */
  readonly devicePath?: string;
  /** Fault injection: fraction of sentences sent with a wrong checksum (0–1). */
  readonly badChecksumRate?: number;
  /** Seeds the fault injection. */
  readonly seed?: number;
}

export type NmeaEmulator = LineEmitter;

/** A GNSS receiver on a serial line reporting the simulated vehicle. */
export async function startNmeaEmulator(options: NmeaEmulatorOptions): Promise<NmeaEmulator> {
  const rateHz = options.rateHz ?? 1;
  if (!(rateHz >= 1 && rateHz <= 10)) throw new RangeError('rateHz must be within 1..10');
  const badRate = options.badChecksumRate ?? 0;
  if (!(badRate >= 0 && badRate <= 1)) throw new RangeError('badChecksumRate must be within 0..1');
  if (typeof options.provider !== 'function') throw new TypeError('provider must be a function');
  const random = mulberry32(options.seed ?? 1);
  return startLineEmitter({
    devicePath: options.devicePath,
    rateHz,
    nextLines: () =>
      formatEpoch(options.provider(), options).map((line) =>
        badRate > 0 && random() < badRate
          ? `${line.slice(0, -2)}${line.endsWith('00') ? '01' : '00'}`
          : line,
      ),
  });
}
