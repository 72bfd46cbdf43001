import { describe, expect, it } from 'vitest';
import { GNSS_SIGNALS, NmeaDecoder } from './decoder.js';
import { formatNmeaSentence } from './parse.js';

const byName = (readings: { name: string; value: unknown }[]) =>
  Object.fromEntries(readings.map((r) => [r.name, r.value]));

describe('NmeaDecoder', () => {
  it('turns RMC + GGA into VSS readings timed by GNSS UTC, once per epoch', () => {
    const d = new NmeaDecoder({ sourceId: 'nmea:test' });
    const rmc = d.decodeLine(
      '$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E*6B',
    );
    const gga = d.decodeLine(
      '$GPGGA,113258,3238.9148,N,10822.4466,W,2,08,1.1,1577.4,M,-24.6,M,,*4D',
    );
    const t = Date.parse('2022-10-18T11:32:58Z');
    expect(rmc.readings.every((r) => r.time === t && r.source === 'nmea:test')).toBe(true);
    expect(byName(rmc.readings)).toEqual({
      [GNSS_SIGNALS.latitude.name]: 32 + 38.9148 / 60,
      [GNSS_SIGNALS.longitude.name]: -(108 + 22.4466 / 60),
      [GNSS_SIGNALS.speed.name]: 5.3 * 1.852,
      [GNSS_SIGNALS.heading.name]: 247.1,
    });
    // Position already came with RMC for this epoch: GGA adds altitude (HAE) and fix quality.
    expect(byName(gga.readings)).toEqual({
      [GNSS_SIGNALS.fixQuality.name]: 'DGPS',
      [GNSS_SIGNALS.altitude.name]: 1577.4 - 24.6,
    });
    expect(gga.readings.find((r) => r.name === GNSS_SIGNALS.altitude.name)?.unit).toBe('m');
  });

  it('times VTG by the epoch before it, and yields nothing without a fix', () => {
    const d = new NmeaDecoder({ sourceId: 's' });
    expect(d.decodeLine(formatNmeaSentence('GNVTG,10.0,T,,M,1.0,N,1.852,K,A')).readings).toEqual(
      [],
    );
    expect(
      byName(d.decodeLine(formatNmeaSentence('GNRMC,120000.00,V,,,,,,,010125,,,N')).readings),
    ).toEqual({});
    expect(
      byName(d.decodeLine(formatNmeaSentence('GNGGA,120001.00,,,,,0,00,,,M,,M,,')).readings),
    ).toEqual({
      [GNSS_SIGNALS.fixQuality.name]: 'INVALID',
    });
    const vtg = d.decodeLine(formatNmeaSentence('GNVTG,10.0,T,,M,1.0,N,1.852,K,A')).readings;
    expect(vtg.map((r) => [r.name, r.value, r.time])).toEqual([
      [GNSS_SIGNALS.speed.name, 1.852, Date.parse('2025-01-01T12:00:01Z')],
      [GNSS_SIGNALS.heading.name, 10, Date.parse('2025-01-01T12:00:01Z')],
    ]);
  });

  it('dates GGA by the host clock before any RMC, and rolls over at midnight', () => {
    const host = Date.parse('2024-03-10T00:00:02Z');
    const d = new NmeaDecoder({ sourceId: 's', now: () => host });
    const before = d.decodeLine(
      formatNmeaSentence('GPGGA,235959.50,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,'),
    );
    expect(before.readings[0]?.time).toBe(Date.parse('2024-03-09T23:59:59.5Z'));
    d.decodeLine(formatNmeaSentence('GPRMC,235959.90,A,4807.038,N,01131.000,E,0.0,,090324,,'));
    const after = d.decodeLine(
      formatNmeaSentence('GPGGA,000000.10,4807.038,N,01131.000,E,1,08,0.9,545.4,M,,M,,'),
    );
    expect(after.readings[0]?.time).toBe(Date.parse('2024-03-10T00:00:00.1Z'));
  });

  it('counts bad, proprietary and unused sentences and keeps going', () => {
    const d = new NmeaDecoder({ sourceId: 's' });
    for (const line of [
      'garbage',
      '$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E*00',
      formatNmeaSentence('GPRMC,113258,A,9938.9148,N,10822.4466,W,5,1,181022,,'),
      '$PGRMV,-2.5,-1.1,0.3*58',
      '$GPGSA,A,3,02,05,11,12,18,20,25,29,,,,,1.4,1.1,0.9*3D',
      '$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E*6B',
    ]) {
      d.decodeLine(line);
    }
    expect(d.stats).toEqual({
      lines: 6,
      decoded: 1,
      ignored: 2,
      invalid: { framing: 1, checksum: 1, field: 1 },
    });
  });
});
