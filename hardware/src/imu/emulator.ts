import { startLineEmitter, type LineEmitter } from '../nmea/line-emitter.js';
import { gaussianAt, mulberry32 } from '../vehicle/random.js';
import type { VehicleSnapshot, VehicleStateProvider } from '../vehicle/state.js';

export interface ImuEmulatorOptions {
  readonly provider: VehicleStateProvider;
  /** Samples per second, up to 100. Default 100. */
  readonly rateHz?: number;
  readonly devicePath?: string;
  /** Fault injection: fraction of lines sent with a wrong checksum (0–1). */
  readonly badChecksumRate?: number;
  readonly seed?: number;
  /** Wall clock for the device's ms counter; injectable. */
  readonly now?: () => number;
}

export type ImuEmulator = LineEmitter;

function checksumHex(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * One line of the enginechain IMU protocol (firmware-bridge/src/imu/protocol.ts) for a
 * snapshot. The simulator's lateral acceleration and yaw rate are compass-sense (positive
 * turning right); the wire is ISO 8855 (y left, yaw counter-clockwise), hence the signs.
 * Vertical: road roughness as small noise around 0 (gravity removed).
 */
export function formatImuSample(s: VehicleSnapshot, deviceMs: number, verticalMs2 = 0): string {
  const n = (v: number) => (Math.abs(v) < 5e-5 ? 0 : v).toFixed(4);
  const body = `IMU,${Math.floor(deviceMs) >>> 0},${n(s.accelLongMs2)},${n(-s.accelLatMs2)},${n(verticalMs2)},${n(-s.yawRateDegS)}`;
  return `$${body}*${checksumHex(body)}`;
}

/** An IMU on a serial line sampling the simulated vehicle at up to 100 Hz. */
export async function startImuEmulator(options: ImuEmulatorOptions): Promise<ImuEmulator> {
  const rateHz = options.rateHz ?? 100;
  if (!(rateHz > 0 && rateHz <= 100)) throw new RangeError('rateHz must be within (0, 100]');
  const badRate = options.badChecksumRate ?? 0;
  if (!(badRate >= 0 && badRate <= 1)) throw new RangeError('badChecksumRate must be within 0..1');
  if (typeof options.provider !== 'function') throw new TypeError('provider must be a function');
  const now = options.now ?? Date.now;
  const bootMs = now();
  const seed = options.seed ?? 1;
  const random = mulberry32(seed ^ 0x1a0);
  let sample = 0;
  return startLineEmitter({
    devicePath: options.devicePath,
    rateHz,
    nextLines: () => {
      const vertical = 0.05 * gaussianAt(seed, 4, sample++);
      const line = formatImuSample(options.provider(), now() - bootMs, vertical);
      return [
        badRate > 0 && random() < badRate
          ? `${line.slice(0, -2)}${line.endsWith('00') ? '01' : '00'}`
          : line,
      ];
    },
  });
}
