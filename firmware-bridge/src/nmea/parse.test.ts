import { describe, expect, it } from 'vitest';
import { NMEA_ERROR_CODES } from './errors.js';
import {
  formatNmeaSentence,
  KNOT_MS,
  nmeaChecksum,
  parseNmeaSentence,
  type NmeaSentence,
} from './parse.js';

function sentence(line: string): NmeaSentence {
  const verdict = parseNmeaSentence(line);
  if (verdict.kind !== 'sentence')
    throw new Error(`expected a sentence, got ${JSON.stringify(verdict)}`);
  return verdict.sentence;
}

describe('parseNmeaSentence', () => {
  it('computes the XOR checksum of the NMEA 0183 examples', () => {
    // From the Garmin 15x log (vectors/nmea): *6B.
    expect(nmeaChecksum('GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E')).toBe(
      0x6b,
    );
    expect(
      formatNmeaSentence('GPGGA,113258,3238.9148,N,10822.4466,W,2,08,1.1,1577.4,M,-24.6,M,,'),
    ).toBe('$GPGGA,113258,3238.9148,N,10822.4466,W,2,08,1.1,1577.4,M,-24.6,M,,*4D');
  });

  it('decodes RMC with date, speed in m/s, course and variation', () => {
    const s = sentence(
      '$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E*6B\r\n',
    );
    expect(s).toMatchObject({
      type: 'RMC',
      talker: 'GP',
      timeOfDayMs: (11 * 3600 + 32 * 60 + 58) * 1000,
      status: 'A',
      speedKnots: 5.3,
      courseDeg: 247.1,
      date: { year: 2022, month: 10, day: 18 },
      magneticVariationDeg: 9.3,
    });
    if (s.type !== 'RMC') throw new Error('type');
    expect(s.latitude).toBeCloseTo(32 + 38.9148 / 60, 12);
    expect(s.longitude).toBeCloseTo(-(108 + 22.4466 / 60), 12);
    expect(s.speedMs).toBeCloseTo(5.3 * KNOT_MS, 12);
  });

  it('decodes VTG (both layouts), GLL and ZDA, from any talker', () => {
    expect(sentence(formatNmeaSentence('GAVTG,286.35,T,,M,0.50,N,0.93,K,A'))).toMatchObject({
      type: 'VTG',
      talker: 'GA',
      courseTrueDeg: 286.35,
      courseMagneticDeg: undefined,
      speedKnots: 0.5,
      speedKmh: 0.93,
      mode: 'A',
    });
    expect(sentence(formatNmeaSentence('GPVTG,054.7,034.4,005.5,010.2'))).toMatchObject({
      courseTrueDeg: 54.7,
      courseMagneticDeg: 34.4,
      speedKnots: 5.5,
      speedKmh: 10.2,
    });
    expect(sentence('$GNGLL,4739.71890,N,12219.58362,W,055234.200,A,A*5F')).toMatchObject({
      type: 'GLL',
      timeOfDayMs: (5 * 3600 + 52 * 60 + 34) * 1000 + 200,
      status: 'A',
    });
    expect(sentence('$GNZDA,055234.000,05,08,2026,00,00*46')).toMatchObject({
      type: 'ZDA',
      date: { year: 2026, month: 8, day: 5 },
    });
    expect(
      sentence(formatNmeaSentence('BDGGA,000000.00,0000.0000,N,00000.0000,E,0,00,,,M,,M,,')),
    ).toMatchObject({
      talker: 'BD',
      fixQuality: 0,
      altitudeMslM: undefined,
    });
  });

  it('leaves empty fields undefined (no fix yet)', () => {
    const s = sentence(formatNmeaSentence('GPRMC,,V,,,,,,,,,,N'));
    expect(s).toMatchObject({
      status: 'V',
      latitude: undefined,
      timeOfDayMs: undefined,
      date: undefined,
    });
  });

  it('skips proprietary and unsupported sentences without an error', () => {
    expect(parseNmeaSentence('$PGRMV,-2.5,-1.1,0.3*58').kind).toBe('ignored');
    expect(parseNmeaSentence('$GPGSA,A,3,02,05,11,12,18,20,25,29,,,,,1.4,1.1,0.9*3D')).toEqual({
      kind: 'ignored',
      address: 'GPGSA',
      reason: 'unsupported',
    });
  });

  // One table of hostile lines, each with the code it must get.
  const hostile: [string, keyof typeof NMEA_ERROR_CODES, RegExp?][] = [
    ['', 'framing'],
    ['GPRMC,113258,A*00', 'framing'],
    [`$${'A'.repeat(200)}*00`, 'framing'],
    ['$GPRMC,11\u00003258*00', 'framing'],
    [
      '$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E*6C',
      'checksum',
      /computed 6B/,
    ],
    ['$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E', 'checksum'],
    ['$GPRMC,113258,A,3238.9148,N,10822.4466,W,005.3,247.1,181022,009.3,E*ZZ', 'checksum'],
    [formatNmeaSentence('gprmc,1'), 'framing', /address/],
    [formatNmeaSentence('GPRMC,256000,A,3238.9148,N,10822.4466,W,5,1,181022,,'), 'field', /time/],
    [formatNmeaSentence('GPRMC,113258,X,3238.9148,N,10822.4466,W,5,1,181022,,'), 'field', /status/],
    [
      formatNmeaSentence('GPRMC,113258,A,3268.9148,N,10822.4466,W,5,1,181022,,'),
      'field',
      /latitude/,
    ],
    [
      formatNmeaSentence('GPRMC,113258,A,3238.9148,Q,10822.4466,W,5,1,181022,,'),
      'field',
      /hemisphere/,
    ],
    [
      formatNmeaSentence('GPRMC,113258,A,3238.9148,N,1822.4466,W,5,1,181022,,'),
      'field',
      /longitude/,
    ],
    [
      formatNmeaSentence('GPRMC,113258,A,3238.9148,N,10822.4466,W,fast,1,181022,,'),
      'field',
      /speed/,
    ],
    [formatNmeaSentence('GPRMC,113258,A,3238.9148,N,10822.4466,W,5,1,310222,,'), 'field', /date/],
    [
      formatNmeaSentence('GPGGA,113258,3238.9148,N,10822.4466,W,9,08,1.1,1577.4,M,-24.6,M,,'),
      'field',
      /fix quality/,
    ],
    [
      formatNmeaSentence('GPGGA,113258,3238.9148,N,10822.4466,W,1,08,1.1,1e3,M,-24.6,M,,'),
      'field',
      /altitude/,
    ],
    [formatNmeaSentence('GNZDA,055234.000,05,13,2026,00,00'), 'field', /date/],
    [formatNmeaSentence('GNZDA,055234.000,05,08,26,00,00'), 'field', /year/],
  ];
  for (const [line, code, message] of hostile) {
    it(`gives ${code} for ${JSON.stringify(line.slice(0, 50))}`, () => {
      const verdict = parseNmeaSentence(line);
      expect(verdict.kind).toBe('invalid');
      if (verdict.kind !== 'invalid') return;
      expect(verdict.error.code).toBe(code);
      if (message) expect(verdict.error.message).toMatch(message);
    });
  }

  it('throws only on misuse (not a string)', () => {
    expect(() => parseNmeaSentence(42 as never)).toThrow(TypeError);
  });
});
