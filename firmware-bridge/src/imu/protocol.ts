/**
 * The enginechain IMU line protocol: one ASCII line per sample, NMEA-style framing so the same
 * tools (and the same XOR checksum) work on it:
 *
 *     $IMU,<t_ms>,<ax>,<ay>,<az>,<yaw_rate>*HH\r\n
 *
 * - `t_ms`: the device's millisecond counter since boot, unsigned 32-bit (wraps after 49.7
 *   days). It orders and spaces samples; the host gives them an absolute time.
 * - `ax`, `ay`, `az`: acceleration in m/s², ISO 8855 vehicle axes: x forward, y left, z up,
 *   gravity removed (a level car at rest reads 0,0,0).
 * - `yaw_rate`: rotation about z in degrees/s, positive counter-clockwise seen from above
 *   (turning left).
 * - `HH`: two hex digits, XOR of every byte between `$` and `*`.
 *
 * Decimal numbers, optional sign, no exponent. Example: `$IMU,123456,0.52,-0.10,0.03,1.25*54`.
 */
import { formatNmeaSentence, nmeaChecksum } from '../nmea/parse.js';

export interface ImuSample {
  readonly deviceMs: number;
  readonly accelLongitudinalMs2: number;
  readonly accelLateralMs2: number;
  readonly accelVerticalMs2: number;
  readonly yawRateDegS: number;
}

export const IMU_ERROR_CODES = {
  framing: 'Not an IMU line: expected $IMU,<t_ms>,<ax>,<ay>,<az>,<yaw_rate>*HH',
  checksum: 'The *HH checksum is missing or does not match the line',
  field: 'A field is not a number or is out of range',
} as const;

export type ImuErrorCode = keyof typeof IMU_ERROR_CODES;

export class ImuError extends Error {
  override readonly name = 'ImuError';
  constructor(
    readonly code: ImuErrorCode,
    message?: string,
  ) {
    super(message ?? IMU_ERROR_CODES[code]);
  }
}

export type ImuVerdict =
  | { readonly kind: 'sample'; readonly sample: ImuSample }
  | { readonly kind: 'invalid'; readonly error: ImuError };

/** Beyond these a MEMS part is saturated or the line is corrupt: 16 g, 2000 °/s. */
const MAX_ACCEL_MS2 = 16 * 9.80665;
const MAX_YAW_DEG_S = 2000;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)$/;

const bad = (code: ImuErrorCode, message: string): ImuVerdict => ({
  kind: 'invalid',
  error: new ImuError(code, message),
});

/** Parses one line. Pure; never throws on data, only on misuse (not a string). */
export function parseImuLine(line: string): ImuVerdict {
  if (typeof line !== 'string') throw new TypeError('line must be a string');
  const text = line.replace(/[\r\n]+$/, '');
  if (!text.startsWith('$IMU,')) return bad('framing', `not an $IMU line: "${text.slice(0, 20)}"`);
  if (text.length > 100) return bad('framing', 'longer than 100 characters');
  const star = text.lastIndexOf('*');
  if (star < 0 || !/^[0-9A-Fa-f]{2}$/.test(text.slice(star + 1)))
    return bad('checksum', 'no *HH checksum');
  const body = text.slice(1, star);
  if (parseInt(text.slice(star + 1), 16) !== nmeaChecksum(body))
    return bad('checksum', 'checksum mismatch');
  const fields = body.split(',').slice(1);
  if (fields.length !== 5) return bad('framing', `expected 5 fields, got ${fields.length}`);
  const names = ['t_ms', 'ax', 'ay', 'az', 'yaw_rate'] as const;
  const values: number[] = [];
  for (const [i, name] of names.entries()) {
    const raw = fields[i] ?? '';
    if (!NUMBER.test(raw)) return bad('field', `${name}: "${raw}"`);
    values.push(Number(raw));
  }
  const [deviceMs, ax, ay, az, yaw] = values as [number, number, number, number, number];
  if (!Number.isInteger(deviceMs) || deviceMs < 0 || deviceMs > 0xffffffff) {
    return bad('field', `t_ms: ${fields[0]} is not a uint32`);
  }
  for (const [name, v] of [
    ['ax', ax],
    ['ay', ay],
    ['az', az],
  ] as const) {
    if (Math.abs(v) > MAX_ACCEL_MS2) return bad('field', `${name}: ${v} m/s² beyond ±16 g`);
  }
  if (Math.abs(yaw) > MAX_YAW_DEG_S) return bad('field', `yaw_rate: ${yaw} degrees/s beyond ±2000`);
  return {
    kind: 'sample',
    sample: {
      deviceMs,
      accelLongitudinalMs2: ax,
      accelLateralMs2: ay,
      accelVerticalMs2: az,
      yawRateDegS: yaw,
    },
  };
}

/** Formats a sample (4 decimals), for emulators and tests. */
export function formatImuLine(sample: ImuSample): string {
  const n = (v: number) => (Object.is(Math.round(v * 1e4), -0) ? 0 : v).toFixed(4);
  const t = Math.floor(sample.deviceMs) >>> 0;
  return formatNmeaSentence(
    `IMU,${t},${n(sample.accelLongitudinalMs2)},${n(sample.accelLateralMs2)},${n(sample.accelVerticalMs2)},${n(sample.yawRateDegS)}`,
  );
}
