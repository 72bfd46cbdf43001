import type { VehicleSnapshot } from '../vehicle/state.js';

/**
 * NMEA 0183 sentences describing a vehicle snapshot, as a u-blox-class receiver prints them.
 * Written apart from firmware-bridge's parser on purpose: emulator and parser check each other.
 */

export interface NmeaFormatOptions {
  /** `GP` (GPS only) or `GN` (multi-constellation). Default `GN`. */
  readonly talker?: 'GP' | 'GN' | 'GL' | 'GA' | 'BD';
  /** Geoid height above the ellipsoid printed in GGA; MSL altitude = snapshot altitude − this. */
  readonly geoidSeparationM?: number;
  readonly satellites?: number;
  readonly hdop?: number;
}

export function checksumHex(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

const frame = (body: string) => `$${body}*${checksumHex(body)}`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

function utcTime(ms: number): string {
  const d = new Date(ms);
  const cs = Math.floor(d.getUTCMilliseconds() / 10);
  return `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}.${pad(cs, 2)}`;
}

function utcDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate(), 2)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCFullYear() % 100, 2)}`;
}

/** Degrees → `ddmm.mmmmm` (7 significant decimals of a degree: ~2 cm). */
function coordinate(deg: number, degreeDigits: 2 | 3, hemispheres: [string, string]): string {
  const abs = Math.abs(deg);
  let whole = Math.floor(abs);
  let minutes = Number(((abs - whole) * 60).toFixed(5));
  if (minutes >= 60) {
    whole += 1;
    minutes = 0;
  }
  const m = minutes.toFixed(5).padStart(8, '0');
  return `${pad(whole, degreeDigits)}${m},${deg < 0 ? hemispheres[1] : hemispheres[0]}`;
}

const lat = (deg: number) => coordinate(deg, 2, ['N', 'S']);
const lon = (deg: number) => coordinate(deg, 3, ['E', 'W']);

export function formatGga(s: VehicleSnapshot, o: NmeaFormatOptions = {}): string {
  const geoid = o.geoidSeparationM ?? -34.0;
  return frame(
    `${o.talker ?? 'GN'}GGA,${utcTime(s.wallClockMs)},${lat(s.latitude)},${lon(s.longitude)},1,${pad(o.satellites ?? 10, 2)},${(o.hdop ?? 0.9).toFixed(1)},${(s.altitudeM - geoid).toFixed(1)},M,${geoid.toFixed(1)},M,,`,
  );
}

export function formatRmc(s: VehicleSnapshot, o: NmeaFormatOptions = {}): string {
  const knots = s.speedKmh / 1.852;
  return frame(
    `${o.talker ?? 'GN'}RMC,${utcTime(s.wallClockMs)},A,${lat(s.latitude)},${lon(s.longitude)},${knots.toFixed(3)},${s.headingDeg.toFixed(2)},${utcDate(s.wallClockMs)},,,A`,
  );
}

export function formatVtg(s: VehicleSnapshot, o: NmeaFormatOptions = {}): string {
  return frame(
    `${o.talker ?? 'GN'}VTG,${s.headingDeg.toFixed(2)},T,,M,${(s.speedKmh / 1.852).toFixed(3)},N,${s.speedKmh.toFixed(3)},K,A`,
  );
}

export function formatZda(s: VehicleSnapshot, o: NmeaFormatOptions = {}): string {
  const d = new Date(s.wallClockMs);
  return frame(
    `${o.talker ?? 'GN'}ZDA,${utcTime(s.wallClockMs)},${pad(d.getUTCDate(), 2)},${pad(d.getUTCMonth() + 1, 2)},${d.getUTCFullYear()},00,00`,
  );
}

/** One epoch in the order receivers send it: RMC, VTG, GGA, ZDA. */
export function formatEpoch(s: VehicleSnapshot, o: NmeaFormatOptions = {}): string[] {
  return [formatRmc(s, o), formatVtg(s, o), formatGga(s, o), formatZda(s, o)];
}
