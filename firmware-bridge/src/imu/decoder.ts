import type { Reading } from '../source/types.js';
import { parseImuLine, type ImuErrorCode, type ImuVerdict } from './protocol.js';

export const IMU_SIGNALS = {
  longitudinal: { name: 'Vehicle.Acceleration.Longitudinal', unit: 'm/s^2' },
  lateral: { name: 'Vehicle.Acceleration.Lateral', unit: 'm/s^2' },
  vertical: { name: 'Vehicle.Acceleration.Vertical', unit: 'm/s^2' },
  yaw: { name: 'Vehicle.AngularVelocity.Yaw', unit: 'degrees/s' },
} as const;

export interface ImuDecoderStats {
  lines: number;
  samples: number;
  invalid: Record<ImuErrorCode, number>;
  /** Times the device clock was re-anchored to the host clock (device reset, counter wrap, drift). */
  reanchored: number;
}

export interface ImuDecoderOptions {
  readonly sourceId: string;
  /** Host clock, Unix epoch ms. Injectable for tests. */
  readonly now?: () => number;
  /** Re-anchor when device and host time disagree by more than this. Default 2000 ms. */
  readonly maxDriftMs?: number;
}

/**
 * IMU lines → readings. The device counter keeps the exact spacing of samples (the host
 * receives them in bursts); the host clock gives the absolute time: time = anchor + t_ms, with
 * the anchor taken at the first sample and again whenever the counter goes backwards (reset,
 * wrap) or drifts away from the host by more than `maxDriftMs`. Times never go backwards.
 */
export class ImuDecoder {
  readonly stats: ImuDecoderStats = {
    lines: 0,
    samples: 0,
    invalid: { framing: 0, checksum: 0, field: 0 },
    reanchored: 0,
  };
  private anchorMs: number | undefined;
  private lastDeviceMs = -1;
  private lastTime = -Infinity;
  private readonly now: () => number;
  private readonly maxDriftMs: number;

  constructor(private readonly options: ImuDecoderOptions) {
    if (typeof options?.sourceId !== 'string') throw new TypeError('sourceId must be a string');
    this.now = options.now ?? Date.now;
    this.maxDriftMs = options.maxDriftMs ?? 2000;
  }

  decodeLine(line: string): { verdict: ImuVerdict; readings: Reading[] } {
    this.stats.lines++;
    const verdict = parseImuLine(line);
    if (verdict.kind === 'invalid') {
      this.stats.invalid[verdict.error.code]++;
      return { verdict, readings: [] };
    }
    this.stats.samples++;
    const s = verdict.sample;
    const host = this.now();
    if (
      this.anchorMs === undefined ||
      s.deviceMs < this.lastDeviceMs ||
      Math.abs(this.anchorMs + s.deviceMs - host) > this.maxDriftMs
    ) {
      if (this.anchorMs !== undefined) this.stats.reanchored++;
      this.anchorMs = host - s.deviceMs;
    }
    this.lastDeviceMs = s.deviceMs;
    const time = Math.max(this.lastTime, this.anchorMs + s.deviceMs);
    this.lastTime = time;
    const source = this.options.sourceId;
    const reading = (signal: { name: string; unit: string }, value: number): Reading => ({
      name: signal.name,
      unit: signal.unit,
      value,
      time,
      source,
    });
    return {
      verdict,
      readings: [
        reading(IMU_SIGNALS.longitudinal, s.accelLongitudinalMs2),
        reading(IMU_SIGNALS.lateral, s.accelLateralMs2),
        reading(IMU_SIGNALS.vertical, s.accelVerticalMs2),
        reading(IMU_SIGNALS.yaw, s.yawRateDegS),
      ],
    };
  }
}
