import type { Reading } from '../source/types.js';
import type { NmeaErrorCode } from './errors.js';
import { nmeaEpochMs, parseNmeaSentence, type NmeaDate, type NmeaVerdict } from './parse.js';

/**
 * The signals a GNSS receiver yields. Position, altitude and heading are standard COVESA VSS
 * (`Vehicle.CurrentLocation.*`). VSS has no GNSS speed, and `Vehicle.Speed` is the vehicle's
 * own (wheel/ECU) speed: the two must never be mixed, because in a dispute they are two
 * independent witnesses of how fast the car went. So GNSS speed over ground and the fix quality
 * are an enginechain overlay under `Vehicle.CurrentLocation`, as VSS overlays are meant to be.
 */
export const GNSS_SIGNALS = {
  latitude: { name: 'Vehicle.CurrentLocation.Latitude', unit: 'degrees' },
  longitude: { name: 'Vehicle.CurrentLocation.Longitude', unit: 'degrees' },
  /** Height above the WGS 84 ellipsoid, as VSS defines it (MSL when the receiver gives no geoid separation). */
  altitude: { name: 'Vehicle.CurrentLocation.Altitude', unit: 'm' },
  heading: { name: 'Vehicle.CurrentLocation.Heading', unit: 'degrees' },
  speed: { name: 'Vehicle.CurrentLocation.Speed', unit: 'km/h' },
  /** One of `FIX_QUALITY_NAMES` (the GGA quality indicator). */
  fixQuality: { name: 'Vehicle.CurrentLocation.GNSSReceiver.FixQuality', unit: '' },
} as const;

/** GGA fix quality 0–8 by name. */
export const FIX_QUALITY_NAMES = [
  'INVALID',
  'GPS',
  'DGPS',
  'PPS',
  'RTK_FIXED',
  'RTK_FLOAT',
  'ESTIMATED',
  'MANUAL',
  'SIMULATION',
] as const;

export interface NmeaDecoderStats {
  /** Lines seen, good or bad. */
  lines: number;
  /** Sentences decoded (GGA, RMC, VTG, GLL, ZDA). */
  decoded: number;
  /** Well-formed but not decoded: proprietary (`$P...`) and types not used (GSA, GSV, TXT...). */
  ignored: number;
  /** Bad lines by code: skipped, never fatal. */
  invalid: Record<NmeaErrorCode, number>;
}

export interface NmeaDecoderOptions {
  /** `Reading.source`. */
  readonly sourceId: string;
  /** Host clock, used only to date GGA/GLL times before any RMC/ZDA gave a date. */
  readonly now?: () => number;
}

const DAY_MS = 86_400_000;

/**
 * Turns a stream of NMEA lines into readings. No I/O: the serial source feeds it lines. Time
 * of each reading is the GNSS UTC time of its sentence; GGA and GLL carry only a time of day,
 * so they are dated with the last RMC/ZDA date (rolling over at midnight) or, before any, the
 * host's UTC date. A signal is emitted at most once per epoch (RMC and GGA both carry
 * position): a reading whose time is not later than that signal's last one is dropped.
 */
export class NmeaDecoder {
  readonly stats: NmeaDecoderStats = {
    lines: 0,
    decoded: 0,
    ignored: 0,
    invalid: { framing: 0, checksum: 0, field: 0 },
  };
  private date: NmeaDate | undefined;
  private lastEpochMs: number | undefined;
  private readonly lastEmitted = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: NmeaDecoderOptions) {
    if (typeof options?.sourceId !== 'string') throw new TypeError('sourceId must be a string');
    this.now = options.now ?? Date.now;
  }

  /** GNSS UTC time (epoch ms) of the latest sentence that carried a time, if any. */
  get lastTimeMs(): number | undefined {
    return this.lastEpochMs;
  }

  /** Decodes one line; returns the verdict and the readings it produced (often none). */
  decodeLine(line: string): { verdict: NmeaVerdict; readings: Reading[] } {
    this.stats.lines++;
    const verdict = parseNmeaSentence(line);
    if (verdict.kind === 'invalid') {
      this.stats.invalid[verdict.error.code]++;
      return { verdict, readings: [] };
    }
    if (verdict.kind === 'ignored') {
      this.stats.ignored++;
      return { verdict, readings: [] };
    }
    this.stats.decoded++;
    const s = verdict.sentence;
    const out: Reading[] = [];
    const emit = (
      signal: { name: string; unit: string },
      value: number | string | undefined,
      time: number | undefined,
    ) => {
      if (value === undefined || time === undefined) return;
      if (time <= (this.lastEmitted.get(signal.name) ?? -Infinity)) return;
      this.lastEmitted.set(signal.name, time);
      out.push({
        name: signal.name,
        value,
        unit: signal.unit,
        time,
        source: this.options.sourceId,
      });
    };
    switch (s.type) {
      case 'RMC': {
        if (s.date) this.date = s.date;
        const time = this.epoch(s.timeOfDayMs);
        if (s.status !== 'A') break;
        emit(GNSS_SIGNALS.latitude, s.latitude, time);
        emit(GNSS_SIGNALS.longitude, s.longitude, time);
        emit(GNSS_SIGNALS.speed, s.speedMs === undefined ? undefined : s.speedMs * 3.6, time);
        emit(GNSS_SIGNALS.heading, s.courseDeg, time);
        break;
      }
      case 'GGA': {
        const time = this.epoch(s.timeOfDayMs);
        emit(GNSS_SIGNALS.fixQuality, FIX_QUALITY_NAMES[s.fixQuality], time);
        if (s.fixQuality === 0) break;
        emit(GNSS_SIGNALS.latitude, s.latitude, time);
        emit(GNSS_SIGNALS.longitude, s.longitude, time);
        const altitude =
          s.altitudeMslM === undefined ? undefined : s.altitudeMslM + (s.geoidSeparationM ?? 0);
        emit(GNSS_SIGNALS.altitude, altitude, time);
        break;
      }
      case 'GLL': {
        const time = this.epoch(s.timeOfDayMs);
        if (s.status !== 'A') break;
        emit(GNSS_SIGNALS.latitude, s.latitude, time);
        emit(GNSS_SIGNALS.longitude, s.longitude, time);
        break;
      }
      case 'VTG': {
        // No time of its own: it belongs to the epoch of the sentence before it.
        if (s.mode === 'N') break;
        const time = this.lastEpochMs;
        emit(
          GNSS_SIGNALS.speed,
          s.speedKmh ?? (s.speedKnots === undefined ? undefined : s.speedKnots * 1.852),
          time,
        );
        emit(GNSS_SIGNALS.heading, s.courseTrueDeg, time);
        break;
      }
      case 'ZDA':
        if (s.date) this.date = s.date;
        this.epoch(s.timeOfDayMs);
        break;
    }
    return { verdict, readings: out };
  }

  /** UTC epoch ms for a time of day, dated as the class comment says. */
  private epoch(timeOfDayMs: number | undefined): number | undefined {
    if (timeOfDayMs === undefined) return undefined;
    let epoch: number;
    if (this.date) {
      epoch = nmeaEpochMs(this.date, timeOfDayMs);
      if (this.lastEpochMs !== undefined && epoch < this.lastEpochMs - DAY_MS / 2) {
        epoch += DAY_MS; // midnight passed before the next RMC/ZDA brought the new date
        const d = new Date(epoch);
        this.date = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
      }
    } else {
      const now = this.now();
      const today = Math.floor(now / DAY_MS) * DAY_MS + timeOfDayMs;
      epoch = [today - DAY_MS, today, today + DAY_MS].reduce((best, c) =>
        Math.abs(c - now) < Math.abs(best - now) ? c : best,
      );
    }
    this.lastEpochMs = epoch;
    return epoch;
  }
}
