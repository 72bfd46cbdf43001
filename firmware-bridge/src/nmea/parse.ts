import { NmeaError } from './errors.js';

/** Calendar date as NMEA carries it (RMC, ZDA). */
export interface NmeaDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

interface SentenceBase {
  /** `GP`, `GN`, `GL`, `GA`, `BD`, `GB`, `GQ`, ... */
  readonly talker: string;
}

/** GGA: fix data. Time of day only, no date. */
export interface GgaSentence extends SentenceBase {
  readonly type: 'GGA';
  /** ms since 00:00 UTC. */
  readonly timeOfDayMs: number | undefined;
  readonly latitude: number | undefined;
  readonly longitude: number | undefined;
  /** 0 invalid, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float, 6 estimated, 7 manual, 8 simulation. */
  readonly fixQuality: number;
  readonly satellitesUsed: number | undefined;
  readonly hdop: number | undefined;
  /** Antenna altitude above mean sea level (geoid), m. */
  readonly altitudeMslM: number | undefined;
  /** Geoid height above the WGS 84 ellipsoid, m. */
  readonly geoidSeparationM: number | undefined;
}

/** RMC: recommended minimum: the one sentence with a full date and speed. */
export interface RmcSentence extends SentenceBase {
  readonly type: 'RMC';
  readonly timeOfDayMs: number | undefined;
  /** `A` valid, `V` warning (no fix). */
  readonly status: 'A' | 'V';
  readonly latitude: number | undefined;
  readonly longitude: number | undefined;
  readonly speedKnots: number | undefined;
  /** Speed over ground, m/s (1 knot = 1852/3600 m/s exactly). */
  readonly speedMs: number | undefined;
  /** Course over ground, degrees true. */
  readonly courseDeg: number | undefined;
  readonly date: NmeaDate | undefined;
  /** East positive. */
  readonly magneticVariationDeg: number | undefined;
  /** NMEA 2.3 mode indicator: A autonomous, D differential, E estimated, N not valid, ... */
  readonly mode: string | undefined;
}

/** VTG: course and speed, no time. */
export interface VtgSentence extends SentenceBase {
  readonly type: 'VTG';
  readonly courseTrueDeg: number | undefined;
  readonly courseMagneticDeg: number | undefined;
  readonly speedKnots: number | undefined;
  readonly speedKmh: number | undefined;
  readonly mode: string | undefined;
}

/** GLL: position and time of day. */
export interface GllSentence extends SentenceBase {
  readonly type: 'GLL';
  readonly latitude: number | undefined;
  readonly longitude: number | undefined;
  readonly timeOfDayMs: number | undefined;
  readonly status: 'A' | 'V';
  readonly mode: string | undefined;
}

/** ZDA: UTC date and time with a four-digit year. */
export interface ZdaSentence extends SentenceBase {
  readonly type: 'ZDA';
  readonly timeOfDayMs: number | undefined;
  readonly date: NmeaDate | undefined;
}

export type NmeaSentence = GgaSentence | RmcSentence | VtgSentence | GllSentence | ZdaSentence;

/**
 * What a line turned out to be. `ignored` is a well-formed sentence this parser does not
 * decode (GSA, GSV, TXT...) or a proprietary one (`$P...`, e.g. Garmin `$PGRME`): skipped
 * cleanly, not an error. `invalid` carries why.
 */
export type NmeaVerdict =
  | { readonly kind: 'sentence'; readonly sentence: NmeaSentence }
  | {
      readonly kind: 'ignored';
      readonly address: string;
      readonly reason: 'proprietary' | 'unsupported';
    }
  | { readonly kind: 'invalid'; readonly error: NmeaError };

/** Longer than the 82 of the standard: RTK receivers (Trimble) print 8 decimals of minutes. */
export const NMEA_MAX_LENGTH = 120;
export const KNOT_MS = 1852 / 3600;

/** XOR of every character between `$` and `*`. */
export function nmeaChecksum(body: string): number {
  if (typeof body !== 'string') throw new TypeError('body must be a string');
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i) & 0xff;
  return sum;
}

/** Builds `$<body>*HH` (used by emulators and tests). */
export function formatNmeaSentence(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

const invalid = (code: 'framing' | 'checksum' | 'field', message: string): NmeaVerdict => ({
  kind: 'invalid',
  error: new NmeaError(code, message),
});

class FieldError extends Error {}

function optionalNumber(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(value)) throw new FieldError(`${field}: "${value}"`);
  return Number(value);
}

/** `hhmmss[.sss]` → ms since midnight, exact to the millisecond. */
function timeOfDay(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(\d{2})(\d{2})(\d{2})(?:\.(\d*))?$/.exec(value);
  if (!m) throw new FieldError(`${field}: "${value}"`);
  const [h, min, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // 60 is allowed for a leap second.
  if (h > 23 || min > 59 || s > 60) throw new FieldError(`${field}: "${value}" out of range`);
  const fraction = (m[4] ?? '').padEnd(4, '0');
  const ms = Math.round(Number(`${fraction.slice(0, 3)}.${fraction.slice(3)}`));
  return ((h * 60 + min) * 60 + s) * 1000 + ms;
}

/** `ddmm.mmmm` / `dddmm.mmmm` + hemisphere → signed degrees. String split keeps it exact. */
function coordinate(
  value: string | undefined,
  hemisphere: string | undefined,
  field: 'latitude' | 'longitude',
): number | undefined {
  if ((value === undefined || value === '') && (hemisphere === undefined || hemisphere === '')) {
    return undefined;
  }
  const degreeDigits = field === 'latitude' ? 2 : 3;
  const m = new RegExp(`^(\\d{${degreeDigits}})(\\d{2}(?:\\.\\d*)?)$`).exec(value ?? '');
  if (!m) throw new FieldError(`${field}: "${value}"`);
  const degrees = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes >= 60 || degrees > (field === 'latitude' ? 90 : 180)) {
    throw new FieldError(`${field}: "${value}" out of range`);
  }
  const positive = field === 'latitude' ? 'N' : 'E';
  const negative = field === 'latitude' ? 'S' : 'W';
  if (hemisphere !== positive && hemisphere !== negative) {
    throw new FieldError(`${field} hemisphere: "${hemisphere}"`);
  }
  const abs = degrees + minutes / 60;
  return hemisphere === negative ? -abs : abs;
}

/**
 * `ddmmyy` → date. Two-digit years are taken as 2000–2079 and 1980–1999 (GPS began in 1980).
 */
function rmcDate(value: string | undefined): NmeaDate | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) throw new FieldError(`date: "${value}"`);
  const yy = Number(m[3]);
  return checkDate(Number(m[1]), Number(m[2]), yy < 80 ? 2000 + yy : 1900 + yy, value);
}

function checkDate(day: number, month: number, year: number, raw: string): NmeaDate {
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || probe.getUTCDate() !== day || probe.getUTCMonth() !== month - 1) {
    throw new FieldError(`date: "${raw}" is not a calendar date`);
  }
  return { year, month, day };
}

function status(value: string | undefined): 'A' | 'V' {
  if (value === 'A' || value === 'V') return value;
  throw new FieldError(`status: "${value}"`);
}

function signedVariation(
  value: string | undefined,
  direction: string | undefined,
): number | undefined {
  const v = optionalNumber(value, 'magnetic variation');
  if (v === undefined) return undefined;
  return direction === 'W' ? -v : v;
}

const optionalText = (value: string | undefined) =>
  value === undefined || value === '' ? undefined : value;

function decode(talker: string, type: string, f: readonly string[]): NmeaSentence | undefined {
  switch (type) {
    case 'GGA': {
      const quality = optionalNumber(f[5], 'fix quality') ?? 0;
      if (!Number.isInteger(quality) || quality < 0 || quality > 8) {
        throw new FieldError(`fix quality: "${f[5]}"`);
      }
      return {
        type,
        talker,
        timeOfDayMs: timeOfDay(f[0], 'time'),
        latitude: coordinate(f[1], f[2], 'latitude'),
        longitude: coordinate(f[3], f[4], 'longitude'),
        fixQuality: quality,
        satellitesUsed: optionalNumber(f[6], 'satellites'),
        hdop: optionalNumber(f[7], 'hdop'),
        altitudeMslM: optionalNumber(f[8], 'altitude'),
        geoidSeparationM: optionalNumber(f[10], 'geoid separation'),
      };
    }
    case 'RMC': {
      const speedKnots = optionalNumber(f[6], 'speed');
      return {
        type,
        talker,
        timeOfDayMs: timeOfDay(f[0], 'time'),
        status: status(f[1]),
        latitude: coordinate(f[2], f[3], 'latitude'),
        longitude: coordinate(f[4], f[5], 'longitude'),
        speedKnots,
        speedMs: speedKnots === undefined ? undefined : speedKnots * KNOT_MS,
        courseDeg: optionalNumber(f[7], 'course'),
        date: rmcDate(f[8]),
        magneticVariationDeg: signedVariation(f[9], f[10]),
        mode: optionalText(f[11]),
      };
    }
    case 'VTG': {
      // NMEA 2.x: course,T,course,M,speed,N,speed,K[,mode]; NMEA 1.5 had no unit letters.
      const tagged = f[1] === 'T' || f[3] === 'M' || f[5] === 'N';
      const at = tagged ? [0, 2, 4, 6] : [0, 1, 2, 3];
      return {
        type,
        talker,
        courseTrueDeg: optionalNumber(f[at[0] ?? 0], 'true course'),
        courseMagneticDeg: optionalNumber(f[at[1] ?? 0], 'magnetic course'),
        speedKnots: optionalNumber(f[at[2] ?? 0], 'speed knots'),
        speedKmh: optionalNumber(f[at[3] ?? 0], 'speed km/h'),
        mode: tagged ? optionalText(f[8]) : undefined,
      };
    }
    case 'GLL':
      return {
        type,
        talker,
        latitude: coordinate(f[0], f[1], 'latitude'),
        longitude: coordinate(f[2], f[3], 'longitude'),
        timeOfDayMs: timeOfDay(f[4], 'time'),
        status: f[5] === undefined || f[5] === '' ? 'V' : status(f[5]),
        mode: optionalText(f[6]),
      };
    case 'ZDA': {
      const [day, month, year] = [f[1], f[2], f[3]];
      const haveDate = day !== undefined && day !== '' && month !== '' && year !== '';
      if (haveDate && !/^\d{1,2}$/.test(day)) throw new FieldError(`day: "${day}"`);
      if (haveDate && !/^\d{1,2}$/.test(month ?? '')) throw new FieldError(`month: "${month}"`);
      if (haveDate && !/^\d{4}$/.test(year ?? '')) throw new FieldError(`year: "${year}"`);
      return {
        type,
        talker,
        timeOfDayMs: timeOfDay(f[0], 'time'),
        date: haveDate
          ? checkDate(Number(day), Number(month), Number(year), `${day}/${month}/${year}`)
          : undefined,
      };
    }
    default:
      return undefined;
  }
}

/**
 * Parses one NMEA 0183 line (trailing CR/LF allowed). Pure: never throws on data, returns a
 * verdict; throws `TypeError` only when `line` is not a string (misuse).
 */
export function parseNmeaSentence(line: string): NmeaVerdict {
  if (typeof line !== 'string') throw new TypeError('line must be a string');
  const text = line.replace(/[\r\n]+$/, '');
  if (!text.startsWith('$'))
    return invalid('framing', `does not start with $: "${text.slice(0, 20)}"`);
  if (text.length > NMEA_MAX_LENGTH)
    return invalid('framing', `longer than ${NMEA_MAX_LENGTH} characters`);
  if (!/^[\x20-\x7e]*$/.test(text)) return invalid('framing', 'contains non-printable characters');
  const star = text.lastIndexOf('*');
  if (star < 0) return invalid('checksum', 'no *hh checksum');
  const body = text.slice(1, star);
  const given = text.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(given)) return invalid('checksum', `bad checksum field "${given}"`);
  const expected = nmeaChecksum(body);
  if (parseInt(given, 16) !== expected) {
    return invalid(
      'checksum',
      `checksum ${given}, computed ${expected.toString(16).toUpperCase().padStart(2, '0')}`,
    );
  }
  const fields = body.split(',');
  const address = fields[0] ?? '';
  if (address.startsWith('P')) return { kind: 'ignored', address, reason: 'proprietary' };
  if (!/^[A-Z]{2}[A-Z]{3}$/.test(address))
    return invalid('framing', `bad address field "${address}"`);
  const talker = address.slice(0, 2);
  try {
    const sentence = decode(talker, address.slice(2), fields.slice(1));
    if (!sentence) return { kind: 'ignored', address, reason: 'unsupported' };
    return { kind: 'sentence', sentence };
  } catch (err) {
    if (err instanceof FieldError) return invalid('field', `${address} ${err.message}`);
    throw err;
  }
}

/** Unix epoch ms of a date plus a time of day, both UTC. */
export function nmeaEpochMs(date: NmeaDate, timeOfDayMs: number): number {
  return Date.UTC(date.year, date.month - 1, date.day) + timeOfDayMs;
}
