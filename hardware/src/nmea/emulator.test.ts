/**
 * The NMEA and IMU emulators against golden lines (checksums computed independently) and,
 * end to end over REAL ptys, against firmware-bridge's NmeaSource / ImuSource.
 */
import {
  ImuSource,
  NmeaSource,
  type Reading,
  type SignalSource,
} from '@enginechain/firmware-bridge';
import { describe, expect, it } from 'vitest';
import { formatImuSample, startImuEmulator } from '../imu/emulator.js';
import { VehicleClock } from '../vehicle/clock.js';
import { loadDriveCycle, parseDriveCycleCsv } from '../vehicle/drive-cycle.js';
import { VehicleSimulator } from '../vehicle/simulator.js';
import type { VehicleSnapshot } from '../vehicle/state.js';
import { startNmeaEmulator } from './emulator.js';
import { formatEpoch, formatGga, formatRmc } from './sentences.js';

const SNAPSHOT = {
  latitude: 48 + 7.038 / 60,
  longitude: -(11 + 31 / 60),
  altitudeM: 545.4,
  speedKmh: 27 * 1.852,
  headingDeg: 84.4,
  wallClockMs: Date.parse('2024-03-09T12:34:56.789Z'),
  accelLongMs2: 1.25,
  accelLatMs2: 0.5,
  yawRateDegS: 3,
} as VehicleSnapshot;

async function take(source: SignalSource, count: number, timeoutMs = 8000): Promise<Reading[]> {
  const out: Reading[] = [];
  const it = source.readings()[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const next = await Promise.race([
      it.next(),
      new Promise<'t'>((r) => setTimeout(() => r('t'), 500)),
    ]);
    if (next === 't') continue;
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe('NMEA sentences', () => {
  it('prints RMC and GGA as a receiver does, with correct checksums', () => {
    expect(formatRmc(SNAPSHOT)).toBe(
      '$GNRMC,123456.78,A,4807.03800,N,01131.00000,W,27.000,84.40,090324,,,A*69',
    );
    expect(formatGga(SNAPSHOT)).toBe(
      '$GNGGA,123456.78,4807.03800,N,01131.00000,W,1,10,0.9,579.4,M,-34.0,M,,*47',
    );
    expect(formatEpoch(SNAPSHOT, { talker: 'GP' }).map((l) => l.slice(0, 6))).toEqual([
      '$GPRMC',
      '$GPVTG',
      '$GPGGA',
      '$GPZDA',
    ]);
  });

  it('prints IMU lines in ISO 8855 axes', () => {
    expect(formatImuSample(SNAPSHOT, 1500)).toBe('$IMU,1500,1.2500,-0.5000,0.0000,-3.0000*79');
  });

  it('rejects rates a GNSS receiver or this IMU cannot do', async () => {
    const provider = () => SNAPSHOT;
    await expect(startNmeaEmulator({ provider, rateHz: 20 })).rejects.toThrow(/rateHz/);
    await expect(startImuEmulator({ provider, rateHz: 500 })).rejects.toThrow(/rateHz/);
    await expect(startNmeaEmulator({ provider, badChecksumRate: 2 })).rejects.toThrow(
      /badChecksumRate/,
    );
  });
});

describe('emulators over a pty, read by the firmware-bridge sources', () => {
  const sim = new VehicleSimulator({
    cycle: loadDriveCycle('us06'),
    seed: 3,
    startTimeMs: Math.floor(Date.now() / 1000) * 1000,
  });

  it('NMEA at 10 Hz: NmeaSource reads the simulated vehicle', async () => {
    // Start 200 s into US06 (fast driving) by shifting the clock.
    let offsetMs = 0;
    const clock = new VehicleClock(sim, { now: () => Date.now() + offsetMs });
    offsetMs = 200_000;
    const emulator = await startNmeaEmulator({ provider: clock.provider, rateHz: 10 });
    const source = new NmeaSource({ path: emulator.path });
    try {
      await source.open();
      const readings = await take(source, 60);
      expect(readings.length).toBe(60);
      for (const r of readings) {
        const t = (r.time - sim.snapshotAt(0).wallClockMs) / 1000;
        const truth = sim.snapshotAt(t);
        // The printed time is truncated to 10 ms: compare with that instant's truth.
        if (r.name.endsWith('Latitude'))
          expect(Math.abs((r.value as number) - truth.latitude)).toBeLessThan(1e-5);
        if (r.name.endsWith('Longitude'))
          expect(Math.abs((r.value as number) - truth.longitude)).toBeLessThan(1e-5);
        if (r.name.endsWith('CurrentLocation.Speed'))
          expect(Math.abs((r.value as number) - truth.speedKmh)).toBeLessThan(0.2);
        if (r.name.endsWith('Altitude'))
          expect(Math.abs((r.value as number) - truth.altitudeM)).toBeLessThan(0.1);
      }
      const times = new Set(readings.map((r) => r.time));
      expect(times.size).toBeGreaterThan(5); // 10 Hz epochs
      expect(emulator.counters.written).toBeGreaterThan(0);
    } finally {
      await source.close();
      await emulator.close();
    }
  });

  it('NMEA fault injection: bad checksums are counted by the reader', async () => {
    const clock = new VehicleClock(sim, { speedup: 1 });
    const emulator = await startNmeaEmulator({
      provider: clock.provider,
      rateHz: 10,
      badChecksumRate: 0.3,
    });
    const source = new NmeaSource({ path: emulator.path });
    try {
      await source.open();
      await take(source, 30);
      expect(source.stats?.invalid.checksum).toBeGreaterThan(0);
    } finally {
      await source.close();
      await emulator.close();
    }
  });

  it('IMU at 100 Hz: ImuSource reads the exact longitudinal acceleration', async () => {
    // A steady 0 → 100 km/h ramp over 1000 s, no noise: a = 100/3.6/1000 m/s² throughout.
    const ramp = new VehicleSimulator({
      cycle: parseDriveCycleCsv('t_s,speed_kmh\n0,0\n1000,100\n'),
      noise: false,
    });
    const clock = new VehicleClock(ramp, { speedup: 1 });
    const emulator = await startImuEmulator({ provider: clock.provider, rateHz: 100 });
    const source = new ImuSource({ path: emulator.path });
    try {
      await source.open();
      const readings = await take(source, 4 * 30);
      expect(readings.length).toBe(120);
      const longitudinal = readings.filter((r) => r.name === 'Vehicle.Acceleration.Longitudinal');
      expect(longitudinal.length).toBe(30);
      for (const r of longitudinal) expect(r.value).toBe(0.0278);
      const yaw = readings.filter((r) => r.name === 'Vehicle.AngularVelocity.Yaw');
      for (const r of yaw) expect(r.unit).toBe('degrees/s');
    } finally {
      await source.close();
      await emulator.close();
    }
  });
});
