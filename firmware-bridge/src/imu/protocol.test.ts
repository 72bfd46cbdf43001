import { describe, expect, it } from 'vitest';
import { ImuDecoder, IMU_SIGNALS } from './decoder.js';
import { formatImuLine, parseImuLine, type ImuErrorCode } from './protocol.js';

describe('IMU line protocol', () => {
  it('parses the documented example (checksum computed independently)', () => {
    expect(parseImuLine('$IMU,123456,0.52,-0.10,0.03,1.25*54\r\n')).toEqual({
      kind: 'sample',
      sample: {
        deviceMs: 123456,
        accelLongitudinalMs2: 0.52,
        accelLateralMs2: -0.1,
        accelVerticalMs2: 0.03,
        yawRateDegS: 1.25,
      },
    });
  });

  it('formats with 4 decimals and the same checksum, and round-trips', () => {
    const sample = {
      deviceMs: 4294967295,
      accelLongitudinalMs2: -3.5,
      accelLateralMs2: -0.00001,
      accelVerticalMs2: 0.12,
      yawRateDegS: -12.5,
    };
    const line = formatImuLine(sample);
    expect(line).toBe('$IMU,4294967295,-3.5000,0.0000,0.1200,-12.5000*43');
    const back = parseImuLine(line);
    expect(back.kind === 'sample' && back.sample.accelLongitudinalMs2).toBe(-3.5);
  });

  const hostile: [string, ImuErrorCode, RegExp?][] = [
    ['', 'framing'],
    ['$GPRMC,1,2*00', 'framing'],
    ['$IMU,1,2,3,4,5', 'checksum'],
    ['$IMU,123456,0.52,-0.10,0.03,1.25*55', 'checksum'],
    ['$IMU,1,2,3,4*' + '00', 'checksum'],
    [formatLine('IMU,1,2,3,4'), 'framing', /5 fields/],
    [formatLine('IMU,1,2,3,4,5,6'), 'framing', /5 fields/],
    [formatLine('IMU,-1,0,0,0,0'), 'field', /t_ms/],
    [formatLine('IMU,1.5,0,0,0,0'), 'field', /t_ms/],
    [formatLine('IMU,4294967296,0,0,0,0'), 'field', /uint32/],
    [formatLine('IMU,1,abc,0,0,0'), 'field', /ax/],
    [formatLine('IMU,1,0,1e3,0,0'), 'field', /ay/],
    [formatLine('IMU,1,0,0,200,0'), 'field', /az.*16 g/],
    [formatLine('IMU,1,0,0,0,2500'), 'field', /yaw_rate/],
    [formatLine('IMU,1,0,0,0,'), 'field', /yaw_rate/],
  ];
  for (const [line, code, message] of hostile) {
    it(`gives ${code} for ${JSON.stringify(line)}`, () => {
      const verdict = parseImuLine(line);
      expect(verdict.kind).toBe('invalid');
      if (verdict.kind !== 'invalid') return;
      expect(verdict.error.code).toBe(code);
      if (message) expect(verdict.error.message).toMatch(message);
    });
  }

  it('throws only on misuse', () => {
    expect(() => parseImuLine(undefined as never)).toThrow(TypeError);
  });
});

function formatLine(body: string): string {
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}`;
}

describe('ImuDecoder', () => {
  const line = (ms: number, ax = 0) =>
    formatImuLine({
      deviceMs: ms,
      accelLongitudinalMs2: ax,
      accelLateralMs2: 0,
      accelVerticalMs2: 0,
      yawRateDegS: 0,
    });

  it('keeps the device spacing of samples received in a burst', () => {
    let host = 1_700_000_000_000;
    const d = new ImuDecoder({ sourceId: 'imu:t', now: () => host });
    const times = [1000, 1010, 1020].map((ms) => d.decodeLine(line(ms)).readings[0]?.time);
    expect(times).toEqual([host, host + 10, host + 20]);
    const r = d.decodeLine(line(1030, 1.5)).readings;
    expect(r.map((x) => [x.name, x.unit])).toEqual([
      [IMU_SIGNALS.longitudinal.name, 'm/s^2'],
      [IMU_SIGNALS.lateral.name, 'm/s^2'],
      [IMU_SIGNALS.vertical.name, 'm/s^2'],
      [IMU_SIGNALS.yaw.name, 'degrees/s'],
    ]);
    expect(r[0]?.value).toBe(1.5);
    host += 5000;
    // Device reset: counter back to 0, time re-anchored to the host and still increasing.
    const afterReset = d.decodeLine(line(0)).readings[0]?.time ?? 0;
    expect(afterReset).toBe(host);
    expect(d.stats.reanchored).toBe(1);
  });

  it('never lets time go backwards when re-anchoring for drift', () => {
    let host = 10_000;
    const d = new ImuDecoder({ sourceId: 'imu:t', now: () => host, maxDriftMs: 100 });
    const a = d.decodeLine(line(5000)).readings[0]?.time ?? 0;
    host -= 500; // host clock stepped back (NTP)
    const b = d.decodeLine(line(5010)).readings[0]?.time ?? 0;
    expect(b).toBeGreaterThanOrEqual(a);
    expect(d.stats.reanchored).toBe(1);
  });

  it('counts bad lines', () => {
    const d = new ImuDecoder({ sourceId: 'imu:t' });
    d.decodeLine('noise');
    d.decodeLine('$IMU,1,0,0,0,0*00');
    d.decodeLine(line(1));
    expect(d.stats).toMatchObject({
      lines: 3,
      samples: 1,
      invalid: { framing: 1, checksum: 1, field: 0 },
    });
  });
});
