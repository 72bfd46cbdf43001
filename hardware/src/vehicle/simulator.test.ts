import { describe, expect, it } from 'vitest';
import { loadDriveCycle, parseDriveCycleCsv, type DriveCycleName } from './drive-cycle.js';
import { SimulatorError } from './errors.js';
import { GEAR_RATIOS, IDLE_RPM, VehicleSimulator } from './simulator.js';
import type { VehicleSnapshot } from './state.js';

// Figures from hardware/data/drive-cycles/README.md (EPA schedules, checked against EPA).
const README: Record<
  DriveCycleName,
  { km: number; events: number[]; idleSeconds: number; kmAbove100: number }
> = {
  // accel ≥ 2.0, ≥ 2.5, decel ≤ −1.8, ≤ −2.4, ≤ −2.7, ≤ −3.0 m/s²
  udds: { km: 11.99, events: [0, 0, 0, 0, 0, 0], idleSeconds: 259, kmAbove100: 0 },
  hwfet: { km: 16.51, events: [0, 0, 0, 0, 0, 0], idleSeconds: 6, kmAbove100: 0 },
  us06: { km: 12.89, events: [11, 7, 9, 7, 2, 1], idleSeconds: 45, kmAbove100: 8.134 },
  nycc: { km: 1.898, events: [5, 2, 3, 2, 0, 0], idleSeconds: 210, kmAbove100: 0 },
};
const CYCLES = Object.keys(README) as DriveCycleName[];

function haversineM(a: VehicleSnapshot, b: VehicleSnapshot): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

function countRuns(values: number[], past: (v: number) => boolean): number {
  let runs = 0;
  let inRun = false;
  for (const v of values) {
    if (past(v) && !inRun) runs++;
    inRun = past(v);
  }
  return runs;
}

describe('VehicleSimulator over the EPA cycles', () => {
  for (const name of CYCLES) {
    describe(name, () => {
      const sim = new VehicleSimulator({ cycle: loadDriveCycle(name), noise: false });
      const snaps: VehicleSnapshot[] = [];
      for (let t = 0; t <= sim.durationS; t += 0.1)
        snaps.push(sim.snapshotAt(Math.min(t, sim.durationS)));
      const perSecond = Array.from({ length: Math.floor(sim.durationS) + 1 }, (_, t) =>
        sim.snapshotAt(t),
      );

      it(`drives ${README[name].km} km ±0.1 % (integrated speed and odometer)`, () => {
        let integratedKm = 0;
        for (let i = 1; i < snaps.length; i++) {
          const a = snaps[i - 1] as VehicleSnapshot;
          const b = snaps[i] as VehicleSnapshot;
          integratedKm += ((a.speedKmh + b.speedKmh) / 2) * ((b.timeS - a.timeS) / 3600);
        }
        const odometerKm = (snaps.at(-1)?.odometerKm ?? 0) - (snaps[0]?.odometerKm ?? 0);
        expect(Math.abs(integratedKm / README[name].km - 1)).toBeLessThan(0.001);
        expect(Math.abs(odometerKm / README[name].km - 1)).toBeLessThan(0.001);
      });

      it('with noise off, reproduces the README 1-s acceleration event counts', () => {
        // dv/dt is constant inside each 1-s step, so sampling mid-step gives the 1-s difference.
        const accel = Array.from(
          { length: Math.floor(sim.durationS) },
          (_, i) => sim.snapshotAt(i + 0.5).accelLongMs2,
        );
        const eps = 1e-9;
        const counts = [
          countRuns(accel, (a) => a >= 2.0 - eps),
          countRuns(accel, (a) => a >= 2.5 - eps),
          countRuns(accel, (a) => a <= -1.8 + eps),
          countRuns(accel, (a) => a <= -2.4 + eps),
          countRuns(accel, (a) => a <= -2.7 + eps),
          countRuns(accel, (a) => a <= -3.0 + eps),
        ];
        expect(counts).toEqual(README[name].events);
        expect(perSecond.filter((s) => s.speedKmh === 0).length).toBe(README[name].idleSeconds);
        // The README sums speed/3600 over the 1-s rows above 100 km/h.
        const above100 = perSecond
          .filter((s) => s.speedKmh > 100)
          .reduce((km, s) => km + s.speedKmh / 3600, 0);
        expect(above100).toBeCloseTo(README[name].kmAbove100, 3);
      });

      it('keeps gear and engine speed plausible', () => {
        let shifts = 0;
        for (let i = 0; i < snaps.length; i++) {
          const s = snaps[i] as VehicleSnapshot;
          expect(s.engineRunning).toBe(true);
          expect(s.engineRpm).toBeGreaterThanOrEqual(IDLE_RPM);
          expect(s.engineRpm).toBeLessThan(6500);
          expect(s.gear).toBeGreaterThanOrEqual(0);
          expect(s.gear).toBeLessThanOrEqual(GEAR_RATIOS.length);
          if (s.gear === 0) {
            expect(s.speedKmh).toBeLessThan(2);
            expect(s.engineRpm).toBe(IDLE_RPM);
          } else if (s.engineRpm > IDLE_RPM) {
            // rpm follows road speed through the gear ratio: constant rpm/speed per gear.
            const rpmPerKmh = s.engineRpm / s.speedKmh;
            const next = snaps.find((o, j) => j > i && o.gear === s.gear && o.engineRpm > IDLE_RPM);
            if (next) expect(next.engineRpm / next.speedKmh).toBeCloseTo(rpmPerKmh, 6);
          }
          if (i > 0 && s.gear !== snaps[i - 1]?.gear) shifts++;
          expect(s.engineLoadPct).toBeGreaterThan(0);
          expect(s.engineLoadPct).toBeLessThanOrEqual(100);
          expect(s.throttlePct).toBeGreaterThanOrEqual(0);
          expect(s.mafGs).toBeGreaterThan(1);
          expect(s.batteryV).toBe(14.2);
        }
        // No gear hunting: fewer than 12 shifts a minute on average.
        expect(shifts / (sim.durationS / 60)).toBeLessThan(12);
        // Top gear is reached at steady speed on every cycle but the slow NYCC.
        const topGear = Math.max(...snaps.map((s) => s.gear));
        expect(topGear).toBeGreaterThanOrEqual(name === 'nycc' ? 3 : 6);
      });

      it('warms the coolant, burns fuel, runs the odometer forward', () => {
        for (let i = 1; i < perSecond.length; i++) {
          const a = perSecond[i - 1] as VehicleSnapshot;
          const b = perSecond[i] as VehicleSnapshot;
          expect(b.coolantC).toBeGreaterThanOrEqual(a.coolantC);
          expect(b.fuelLevelPct).toBeLessThanOrEqual(a.fuelLevelPct);
          expect(b.odometerKm).toBeGreaterThanOrEqual(a.odometerKm);
          expect(b.runTimeS).toBe(i);
          expect(b.wallClockMs - a.wallClockMs).toBe(1000);
        }
        const first = perSecond[0] as VehicleSnapshot;
        const last = perSecond.at(-1) as VehicleSnapshot;
        expect(first.coolantC).toBe(20);
        expect(last.coolantC).toBeGreaterThan(80);
        expect(last.coolantC).toBeLessThanOrEqual(90);
        // 4–20 l/100 km: a mid-size petrol car; NYCC's idling pushes it to the top.
        const litres = ((first.fuelLevelPct - last.fuelLevelPct) / 100) * 50;
        const per100 = (litres / README[name].km) * 100;
        expect(per100).toBeGreaterThan(4);
        expect(per100).toBeLessThan(20);
      });

      it('draws a GNSS track whose length matches the odometer within 0.5 %', () => {
        let trackM = 0;
        const headings = new Set<number>();
        for (let i = 1; i < perSecond.length; i++) {
          trackM += haversineM(
            perSecond[i - 1] as VehicleSnapshot,
            perSecond[i] as VehicleSnapshot,
          );
          headings.add(Math.round((perSecond[i] as VehicleSnapshot).headingDeg / 10));
        }
        const odometerM =
          ((perSecond.at(-1)?.odometerKm ?? 0) - (perSecond[0]?.odometerKm ?? 0)) * 1000;
        expect(Math.abs(trackM / odometerM - 1)).toBeLessThan(0.005);
        expect(headings.size).toBeGreaterThan(3);
        for (const s of perSecond) {
          expect(s.headingDeg).toBeGreaterThanOrEqual(0);
          expect(s.headingDeg).toBeLessThan(360);
          // Lateral acceleration is v × yaw rate (no noise here).
          expect(s.accelLatMs2).toBeCloseTo(
            (s.speedKmh / 3.6) * ((s.yawRateDegS * Math.PI) / 180),
            9,
          );
          expect(Math.abs(s.accelLatMs2)).toBeLessThanOrEqual(3.5 + 1e-9);
        }
      });
    });
  }
});

describe('crash injection', () => {
  const cycle = loadDriveCycle('us06');

  it('drops ΔV ≥ 25 km/h within 100 ms with a large negative spike, then stays stopped', () => {
    const sim = new VehicleSimulator({ cycle, crashAtS: 120, noise: false, seed: 7 });
    expect(sim.crash?.deltaVKmh).toBeGreaterThanOrEqual(25);
    const before = sim.snapshotAt(119.999);
    let largestDropKmh = 0;
    let minAccel = 0;
    for (let ms = 119_500; ms <= 121_000; ms++) {
      const a = sim.snapshotAt(ms / 1000);
      const b = sim.snapshotAt((ms + 100) / 1000);
      largestDropKmh = Math.max(largestDropKmh, a.speedKmh - b.speedKmh);
      minAccel = Math.min(minAccel, a.accelLongMs2);
    }
    expect(largestDropKmh).toBeGreaterThanOrEqual(25);
    expect(largestDropKmh).toBeCloseTo(before.speedKmh, 0);
    expect(minAccel).toBeLessThan(-10 * 9.81);
    const after = sim.snapshotAt(121);
    for (let t = 121; t <= sim.durationS; t += 5) {
      const s = sim.snapshotAt(t);
      expect(s.speedKmh).toBe(0);
      expect(s.accelLongMs2).toBe(0);
      expect(s.engineRunning).toBe(false);
      expect(s.engineRpm).toBe(0);
      expect(s.odometerKm).toBe(after.odometerKm);
      expect(s.latitude).toBeCloseTo(after.latitude, 12);
    }
  });

  it('noise keeps the spike but disturbs the steady signal by ~σ', () => {
    const sim = new VehicleSimulator({ cycle, crashAtS: 120, seed: 7 });
    expect(sim.snapshotAt(120.04).accelLongMs2).toBeLessThan(-100);
    const residuals: number[] = [];
    for (let t = 200; t < 300; t += 0.01) residuals.push(sim.snapshotAt(t).accelLongMs2);
    const mean = residuals.reduce((a, b) => a + b, 0) / residuals.length;
    const sd = Math.sqrt(residuals.reduce((a, b) => a + (b - mean) ** 2, 0) / residuals.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(sd).toBeGreaterThan(0.04);
    expect(sd).toBeLessThan(0.06);
  });

  it('refuses a crash below 25 km/h, naming the field and a usable second', () => {
    expect(() => new VehicleSimulator({ cycle, crashAtS: 2 })).toThrow(/crashAtS.*first second/);
  });
});

describe('determinism and inputs', () => {
  const cycle = loadDriveCycle('nycc');

  it('gives the same snapshot for the same seed, whatever the call order', () => {
    const a = new VehicleSimulator({ cycle, seed: 42 });
    const b = new VehicleSimulator({ cycle, seed: 42 });
    const times = [300.25, 5, 598, 0, 123.456];
    const forward = times.map((t) => a.snapshotAt(t));
    const backward = [...times]
      .reverse()
      .map((t) => b.snapshotAt(t))
      .reverse();
    expect(forward).toEqual(backward);
    const other = new VehicleSimulator({ cycle, seed: 43 }).snapshotAt(300.25);
    expect(other.latitude).not.toBe(forward[0]?.latitude);
    expect(other.accelLongMs2).not.toBe(forward[0]?.accelLongMs2);
  });

  it('starts the track where asked and stores injected DTCs from their second', () => {
    const sim = new VehicleSimulator({
      cycle,
      start: { latitude: 51.5, longitude: -0.12, altitudeM: 30, headingDeg: 90 },
      dtcs: [
        { code: 'P0301', atS: 60 },
        { code: 'P0420', atS: 10 },
      ],
      startTimeMs: Date.UTC(2026, 4, 1),
    });
    const s0 = sim.snapshotAt(0);
    expect([s0.latitude, s0.longitude, s0.altitudeM, s0.headingDeg]).toEqual([51.5, -0.12, 30, 90]);
    expect(s0.wallClockMs).toBe(Date.UTC(2026, 4, 1));
    expect(sim.snapshotAt(9.9).dtcs).toEqual([]);
    expect(sim.snapshotAt(10).dtcs).toEqual(['P0420']);
    expect(sim.snapshotAt(100).dtcs).toEqual(['P0420', 'P0301']);
  });

  const hostile: [string, () => unknown, RegExp][] = [
    ['no cycle', () => new VehicleSimulator({} as never), /cycle/],
    ['fractional seed', () => new VehicleSimulator({ cycle, seed: 1.5 }), /seed/],
    ['NaN crash', () => new VehicleSimulator({ cycle, crashAtS: Number.NaN }), /crashAtS/],
    ['crash after the end', () => new VehicleSimulator({ cycle, crashAtS: 9999 }), /crashAtS/],
    [
      'bad DTC',
      () => new VehicleSimulator({ cycle, dtcs: [{ code: 'X123', atS: 1 }] }),
      /dtcs\[0\]\.code/,
    ],
    ['bad VIN', () => new VehicleSimulator({ cycle, vin: 'IOQ' }), /vin/],
    [
      'latitude 91',
      () => new VehicleSimulator({ cycle, start: { latitude: 91, longitude: 0 } }),
      /latitude/,
    ],
    ['fuel 120 %', () => new VehicleSimulator({ cycle, fuelLevelPct: 120 }), /fuelLevelPct/],
    ['t < 0', () => new VehicleSimulator({ cycle }).snapshotAt(-1), /timeS/],
    ['t past the end', () => new VehicleSimulator({ cycle }).snapshotAt(1e6), /timeS/],
    ['t NaN', () => new VehicleSimulator({ cycle }).snapshotAt(Number.NaN), /timeS/],
  ];
  for (const [what, call, field] of hostile) {
    it(`rejects ${what} with a SimulatorError naming the field`, () => {
      let caught: unknown;
      try {
        call();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SimulatorError);
      expect((caught as SimulatorError).code).toBe('bad-input');
      expect((caught as Error).message).toMatch(field);
    });
  }
});

describe('drive-cycle CSV', () => {
  it('reads any t_s,speed_kmh CSV, including uneven steps', () => {
    const cycle = parseDriveCycleCsv('t_s,speed_kmh\n0,0\n2,36\n# comment\n\n4,0\n', 'ramp');
    const sim = new VehicleSimulator({ cycle, noise: false });
    expect(sim.durationS).toBe(4);
    expect(sim.snapshotAt(1).speedKmh).toBeCloseTo(18, 9);
    expect(sim.snapshotAt(1).accelLongMs2).toBeCloseTo(5, 9);
    expect((sim.snapshotAt(4).odometerKm - 42_000) * 1000).toBeCloseTo(20, 5);
  });

  const bad: [string, RegExp][] = [
    ['t_s,speed_kmh\n', /at least 2 rows/],
    ['t_s,speed_kmh\n1,0\n2,0\n', /line 2.*start at 0/],
    ['t_s,speed_kmh\n0,0\n0,5\n', /line 3.*strictly increase/],
    ['t_s,speed_kmh\n0,0\n1,fast\n', /line 3: bad speed_kmh/],
    ['t_s,speed_kmh\n0,0\n1,-4\n', /line 3: bad speed_kmh/],
    ['t_s,speed_kmh\n0,0\n1\n', /line 3: bad t_s/],
  ];
  for (const [csv, message] of bad) {
    it(`rejects ${JSON.stringify(csv)} with bad-cycle`, () => {
      expect(() => parseDriveCycleCsv(csv)).toThrow(message);
      try {
        parseDriveCycleCsv(csv);
      } catch (err) {
        expect((err as SimulatorError).code).toBe('bad-cycle');
      }
    });
  }

  it('says which names exist when a cycle is missing', () => {
    expect(() => loadDriveCycle('wltp')).toThrow(/udds, hwfet, us06, nycc/);
  });
});
