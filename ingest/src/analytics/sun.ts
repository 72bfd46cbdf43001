import { AnalyticsError } from './errors.js';

/**
 * Where the sun is, from the NOAA Solar Calculator's formulas (NOAA Global Monitoring
 * Laboratory, "NOAA_Solar_Calculations_day.xls", after Meeus, Astronomical Algorithms). No
 * table, no network: a node and an insurer recompute the same value from time and position.
 * NOAA states the sunrise and sunset times are accurate to about a minute between ±72°
 * latitude, which is far below what a driving score can feel.
 */

const RAD = Math.PI / 180;
const MS_PER_DAY = 86_400_000;
/** Julian day of the Unix epoch, 1970-01-01T00:00Z. */
const JD_UNIX_EPOCH = 2_440_587.5;
const JD_J2000 = 2_451_545;

/**
 * Geometric elevation of the sun's centre above the horizon, degrees, at Unix time `timeMs`
 * (UTC) seen from `latitude`/`longitude` (WGS 84 degrees, positive north and east). No
 * refraction: compare with -0.833° for sunrise and sunset (34′ standard refraction plus the
 * 16′ semi-diameter, the USNO and NOAA definition), -6° for civil twilight.
 */
export function solarElevationDeg(timeMs: number, latitude: number, longitude: number): number {
  checkFinite(timeMs, 'timeMs');
  checkRange(latitude, 'latitude', 90);
  checkRange(longitude, 'longitude', 180);
  const julianCentury = (timeMs / MS_PER_DAY + JD_UNIX_EPOCH - JD_J2000) / 36_525;
  const t = julianCentury;
  const meanLongitude = mod(280.46646 + t * (36000.76983 + t * 0.0003032), 360);
  const meanAnomaly = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const centre =
    Math.sin(meanAnomaly * RAD) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    Math.sin(2 * meanAnomaly * RAD) * (0.019993 - 0.000101 * t) +
    Math.sin(3 * meanAnomaly * RAD) * 0.000289;
  const omega = 125.04 - 1934.136 * t;
  const apparentLongitude = meanLongitude + centre - 0.00569 - 0.00478 * Math.sin(omega * RAD);
  const meanObliquity =
    23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const obliquity = meanObliquity + 0.00256 * Math.cos(omega * RAD);
  const declination = Math.asin(Math.sin(obliquity * RAD) * Math.sin(apparentLongitude * RAD));
  const y = Math.tan((obliquity / 2) * RAD) ** 2;
  const l0 = meanLongitude * RAD;
  const m = meanAnomaly * RAD;
  // Equation of time, minutes.
  const equationOfTime =
    (4 / RAD) *
    (y * Math.sin(2 * l0) -
      2 * eccentricity * Math.sin(m) +
      4 * eccentricity * y * Math.sin(m) * Math.cos(2 * l0) -
      0.5 * y * y * Math.sin(4 * l0) -
      1.25 * eccentricity * eccentricity * Math.sin(2 * m));
  const utcMinutes = mod(timeMs / 60_000, 1_440);
  const trueSolarMinutes = mod(utcMinutes + equationOfTime + 4 * longitude, 1_440);
  const hourAngle = trueSolarMinutes / 4 - 180;
  const cosZenith =
    Math.sin(latitude * RAD) * Math.sin(declination) +
    Math.cos(latitude * RAD) * Math.cos(declination) * Math.cos(hourAngle * RAD);
  return 90 - Math.acos(Math.min(1, Math.max(-1, cosZenith))) / RAD;
}

function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r;
}

function checkFinite(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AnalyticsError('bad-input', `${field} must be a finite number`);
  }
}

function checkRange(value: unknown, field: string, limit: number): asserts value is number {
  checkFinite(value, field);
  if (Math.abs(value) > limit) {
    throw new AnalyticsError('bad-input', `${field} must be within ±${limit} degrees`);
  }
}
