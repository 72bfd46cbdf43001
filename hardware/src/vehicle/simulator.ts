import type { DriveCycle } from './drive-cycle.js';
import { SimulatorError } from './errors.js';
import { gaussianAt, mulberry32 } from './random.js';
import type { VehicleSnapshot } from './state.js';

/** A diagnostic trouble code that appears (and stays stored) from `atS` on. */
export interface DtcInjection {
  readonly code: string;
  readonly atS: number;
}

export interface GeoPoint {
  readonly latitude: number;
  readonly longitude: number;
  readonly altitudeM?: number;
  /** Initial course, degrees from true north. */
  readonly headingDeg?: number;
}

export interface VehicleSimulatorOptions {
  readonly cycle: DriveCycle;
  /** Seeds the road layout and the sensor noise. Default 1. */
  readonly seed?: number;
  /** Gaussian noise on accelerations and yaw rate. `false` gives exact dv/dt. Default true. */
  readonly noise?: boolean;
  /** Simulated second of a frontal crash (ΔV = the speed at that instant, within 80 ms). */
  readonly crashAtS?: number;
  readonly dtcs?: readonly DtcInjection[];
  /** Where the GNSS track starts. Default: Detroit, heading north. */
  readonly start?: GeoPoint;
  /** Unix epoch ms of t = 0 (what the GNSS clock reports). Default 2025-01-01T00:00:00Z. */
  readonly startTimeMs?: number;
  readonly vin?: string;
  readonly ambientC?: number;
  /** Fuel level at t = 0, percent of the tank. Default 75. */
  readonly fuelLevelPct?: number;
  /** Odometer at t = 0, km. Default 42 000. */
  readonly odometerStartKm?: number;
}

/** How violent the crash is and when: what a crash-detection test asserts against. */
export interface CrashEvent {
  readonly atS: number;
  readonly durationS: number;
  readonly deltaVKmh: number;
  /** Mean deceleration over the pulse, m/s² (negative). */
  readonly meanAccelMs2: number;
}

// A mid-size petrol car. Numbers are typical published values, not one model's data sheet:
// what matters is that every emulator sees one physically consistent vehicle.
const MASS_KG = 1500;
const CDA_M2 = 0.68;
const AIR_DENSITY = 1.2;
const ROLLING_COEFF = 0.01;
const G = 9.81;
const DRIVETRAIN_EFFICIENCY = 0.9;
const ACCESSORY_KW = 2.5;
const PEAK_KW = 110;
const PEAK_POWER_RPM = 5500;
const BSFC_G_PER_KWH = 260;
const IDLE_FUEL_GS = 0.22;
const STOICHIOMETRIC_AFR = 14.7;
const FUEL_DENSITY_G_PER_L = 745;
const TANK_L = 50;
export const GEAR_RATIOS: readonly number[] = [3.85, 2.24, 1.48, 1.12, 0.89, 0.74];
const FINAL_DRIVE = 3.7;
const TYRE_RADIUS_M = 0.317;
export const IDLE_RPM = 750;
const DOWNSHIFT_RPM = 1100;
/** Fuel is cut on overrun above this engine speed (all modern ECUs do). */
const FUEL_CUT_RPM = 1100;
const THERMOSTAT_C = 90;
const WARMUP_TAU_S = 240;
/** Crash pulse length: real frontal crash pulses last 70–120 ms. */
export const CRASH_PULSE_S = 0.08;
/** Smallest ΔV a crash may have: the usual threshold for a recorded crash event. */
export const MIN_CRASH_DELTA_V_KMH = 25;
/** Drivers keep lateral acceleration below this: it bounds how tight a curve is taken. */
const MAX_LATERAL_MS2 = 3.5;
const ACCEL_NOISE_SIGMA = 0.05;
const YAW_NOISE_SIGMA_DEG = 0.1;
const EARTH_RADIUS_M = 6_371_008.8;
const GRID_S = 0.1;
const DEFAULT_START: Required<GeoPoint> = {
  latitude: 42.3314,
  longitude: -83.0458,
  altitudeM: 190,
  headingDeg: 0,
};
const DTC_PATTERN = /^[PCBU][0-3][0-9A-F]{3}$/;
const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;

interface RoadSegment {
  readonly endM: number;
  /** 1/m, positive turns right (heading increases). */
  readonly curvature: number;
}

interface Powertrain {
  readonly rpm: number;
  readonly loadPct: number;
  readonly throttlePct: number;
  readonly fuelGs: number;
  readonly mafGs: number;
}

function engineRpm(speedMs: number, gear: number): number {
  const ratio = GEAR_RATIOS[gear - 1];
  if (ratio === undefined) return IDLE_RPM;
  const rpm = (speedMs / (2 * Math.PI * TYRE_RADIUS_M)) * 60 * ratio * FINAL_DRIVE;
  // Below idle the clutch (or torque converter) slips: the engine never stalls in the cycle.
  return Math.max(IDLE_RPM, rpm);
}

function mod360(deg: number): number {
  const r = deg % 360;
  return r < 0 ? r + 360 : r;
}

function checkFinite(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SimulatorError('bad-input', `${field} must be a finite number`);
  }
}

/**
 * Plays a drive cycle as one consistent vehicle.
 *
 * Sign conventions of the snapshot (state.ts leaves them open): `yawRateDegS` is the rate of
 * change of `headingDeg` (positive turning right, compass sense) and `accelLatMs2` points to
 * the right; emulators convert to their wire's axes (the IMU uses ISO 8855, y left). `snapshotAt(t)` is pure: the same options
 * and `t` always give the same snapshot, in any call order. Everything that is an integral
 * of the past (odometer, fuel, heading, position, gear with its hysteresis) is computed once
 * in the constructor on a 0.1 s grid and interpolated; the rest is evaluated at `t` exactly.
 */
export class VehicleSimulator {
  readonly durationS: number;
  readonly crash: CrashEvent | undefined;
  readonly vin: string;
  private readonly seed: number;
  private readonly noise: boolean;
  private readonly knotT: number[] = [];
  private readonly knotV: number[] = []; // m/s
  private readonly knotDistM: number[] = [];
  private readonly road: RoadSegment[] = [];
  private readonly gridHeading: Float64Array;
  private readonly gridLat: Float64Array;
  private readonly gridLon: Float64Array;
  private readonly gridFuelG: Float64Array;
  private readonly gridGear: Int8Array;
  private readonly start: Required<GeoPoint>;
  private readonly startTimeMs: number;
  private readonly ambientC: number;
  private readonly fuelStartPct: number;
  private readonly odometerStartKm: number;
  private readonly dtcs: readonly DtcInjection[];

  constructor(options: VehicleSimulatorOptions) {
    const cycle = options?.cycle;
    if (!cycle || !Array.isArray(cycle.timesS) || !Array.isArray(cycle.speedsKmh)) {
      throw new SimulatorError('bad-input', 'cycle must be a DriveCycle (see loadDriveCycle)');
    }
    this.seed = (options.seed ?? 1) >>> 0;
    if (options.seed !== undefined && !Number.isInteger(options.seed)) {
      throw new SimulatorError('bad-input', 'seed must be an integer');
    }
    this.noise = options.noise ?? true;
    this.vin = options.vin ?? '1HGCM82633A004352';
    if (!VIN_PATTERN.test(this.vin))
      throw new SimulatorError('bad-input', 'vin must be 17 VIN characters');
    this.start = { ...DEFAULT_START, ...options.start };
    checkFinite(this.start.latitude, 'start.latitude');
    checkFinite(this.start.longitude, 'start.longitude');
    checkFinite(this.start.altitudeM, 'start.altitudeM');
    checkFinite(this.start.headingDeg, 'start.headingDeg');
    if (Math.abs(this.start.latitude) > 85 || Math.abs(this.start.longitude) > 180) {
      throw new SimulatorError('bad-input', 'start.latitude must be within ±85, longitude ±180');
    }
    this.startTimeMs = options.startTimeMs ?? Date.UTC(2025, 0, 1);
    checkFinite(this.startTimeMs, 'startTimeMs');
    this.ambientC = options.ambientC ?? 20;
    checkFinite(this.ambientC, 'ambientC');
    this.fuelStartPct = options.fuelLevelPct ?? 75;
    checkFinite(this.fuelStartPct, 'fuelLevelPct');
    if (this.fuelStartPct < 0 || this.fuelStartPct > 100) {
      throw new SimulatorError('bad-input', 'fuelLevelPct must be within 0..100');
    }
    this.odometerStartKm = options.odometerStartKm ?? 42_000;
    checkFinite(this.odometerStartKm, 'odometerStartKm');
    this.durationS = cycle.durationS;
    for (const [i, dtc] of (options.dtcs ?? []).entries()) {
      if (!DTC_PATTERN.test(dtc?.code ?? '')) {
        throw new SimulatorError('bad-input', `dtcs[${i}].code must look like P0301`);
      }
      checkFinite(dtc.atS, `dtcs[${i}].atS`);
    }
    this.dtcs = [...(options.dtcs ?? [])].sort((a, b) => a.atS - b.atS);

    for (let i = 0; i < cycle.timesS.length; i++) {
      this.knotT.push(cycle.timesS[i] ?? 0);
      this.knotV.push((cycle.speedsKmh[i] ?? 0) / 3.6);
    }
    this.crash = this.insertCrash(options.crashAtS);
    this.knotDistM.push(0);
    for (let i = 1; i < this.knotT.length; i++) {
      const dt = (this.knotT[i] ?? 0) - (this.knotT[i - 1] ?? 0);
      const mean = ((this.knotV[i] ?? 0) + (this.knotV[i - 1] ?? 0)) / 2;
      this.knotDistM.push((this.knotDistM[i - 1] ?? 0) + mean * dt);
    }
    this.buildRoad(this.knotDistM[this.knotDistM.length - 1] ?? 0);

    const n = Math.ceil(this.durationS / GRID_S) + 2;
    this.gridHeading = new Float64Array(n);
    this.gridLat = new Float64Array(n);
    this.gridLon = new Float64Array(n);
    this.gridFuelG = new Float64Array(n);
    this.gridGear = new Int8Array(n);
    this.integrate(n);
  }

  /** The vehicle at simulated second `timeS` (0 ≤ timeS ≤ durationS). */
  snapshotAt(timeS: number): VehicleSnapshot {
    checkFinite(timeS, 'timeS');
    if (timeS < 0 || timeS > this.durationS) {
      throw new SimulatorError('bad-input', `timeS must be within 0..${this.durationS}`);
    }
    const t = timeS;
    const speedMs = this.speedMs(t);
    const accel = this.accelMs2(t);
    const k = Math.min(Math.floor(t / GRID_S), this.gridGear.length - 2);
    const f = (t - k * GRID_S) / GRID_S;
    const lerp = (a: Float64Array) => (a[k] ?? 0) + ((a[k + 1] ?? 0) - (a[k] ?? 0)) * f;
    const running = this.engineRunningAt(t);
    const gear = running ? (this.gridGear[k] ?? 0) : 0;
    const pt = running ? this.powertrain(speedMs, accel, gear) : undefined;
    const yawRadS = this.yawRateRadS(t);
    const msIndex = Math.round(t * 1000);
    const noise = (channel: number, sigma: number) =>
      this.noise ? sigma * gaussianAt(this.seed, channel, msIndex) : 0;
    const distanceM = this.distanceM(t);
    const fuelUsedL = lerp(this.gridFuelG) / FUEL_DENSITY_G_PER_L;
    const warm = running ? t : (this.crash?.atS ?? t);
    const coolantAtStop =
      THERMOSTAT_C - (THERMOSTAT_C - this.ambientC) * Math.exp(-warm / WARMUP_TAU_S);
    // After the engine stops the coolant drifts back towards ambient over half an hour.
    const coolantC = running
      ? coolantAtStop
      : this.ambientC + (coolantAtStop - this.ambientC) * Math.exp(-(t - warm) / 1800);
    return {
      timeS: t,
      vin: this.vin,
      speedKmh: speedMs * 3.6,
      engineRpm: pt?.rpm ?? 0,
      engineRunning: running,
      gear,
      throttlePct: pt?.throttlePct ?? 0,
      engineLoadPct: pt?.loadPct ?? 0,
      coolantC,
      // Under-bonnet heat soaks the intake at low speed; ram air cools it when moving.
      intakeAirC:
        this.ambientC +
        (running ? 12 * (1 - Math.exp(-t / 600)) * Math.max(0, 1 - speedMs / 30) + 3 : 0),
      ambientAirC: this.ambientC,
      mafGs: pt?.mafGs ?? 0,
      fuelLevelPct: Math.max(0, this.fuelStartPct - (fuelUsedL / TANK_L) * 100),
      // The alternator regulates to ~14.2 V while running; a resting battery shows ~12.5 V.
      batteryV: running ? 14.2 : 12.5,
      runTimeS: running ? Math.floor(t) : 0,
      odometerKm: this.odometerStartKm + distanceM / 1000,
      latitude: lerp(this.gridLat),
      longitude: lerp(this.gridLon),
      altitudeM: this.altitudeAt(distanceM),
      headingDeg: mod360(lerp(this.gridHeading)),
      accelLongMs2: accel + noise(1, ACCEL_NOISE_SIGMA),
      accelLatMs2: speedMs * yawRadS + noise(2, ACCEL_NOISE_SIGMA),
      yawRateDegS: (yawRadS * 180) / Math.PI + noise(3, YAW_NOISE_SIGMA_DEG),
      dtcs: this.dtcs.filter((d) => d.atS <= t).map((d) => d.code),
      wallClockMs: this.startTimeMs + Math.round(t * 1000),
    };
  }

  /** Distance driven since t = 0, metres (exact integral of the piecewise-linear speed). */
  distanceM(t: number): number {
    const i = this.knotIndex(t);
    const t0 = this.knotT[i] ?? 0;
    const v0 = this.knotV[i] ?? 0;
    const tau = t - t0;
    return (this.knotDistM[i] ?? 0) + v0 * tau + 0.5 * this.slope(i) * tau * tau;
  }

  private engineRunningAt(t: number): boolean {
    // The engine runs through the whole cycle (no stop-start); only a crash stops it, as the
    // fuel-pump inertia cut-off does in a real car.
    return this.crash === undefined || t < this.crash.atS + this.crash.durationS;
  }

  private insertCrash(crashAtS: number | undefined): CrashEvent | undefined {
    if (crashAtS === undefined) return undefined;
    checkFinite(crashAtS, 'crashAtS');
    if (crashAtS <= 0 || crashAtS + CRASH_PULSE_S >= this.durationS) {
      throw new SimulatorError('bad-input', `crashAtS must be within 0..${this.durationS - 1} s`);
    }
    const v = this.speedMs(crashAtS);
    if (v * 3.6 < MIN_CRASH_DELTA_V_KMH) {
      let hint = '';
      for (let i = 0; i < this.knotT.length; i++) {
        if ((this.knotT[i] ?? 0) > crashAtS && (this.knotV[i] ?? 0) * 3.6 >= 30) {
          hint = `; the first second after it fast enough is ${this.knotT[i]}`;
          break;
        }
      }
      throw new SimulatorError(
        'bad-input',
        `crashAtS: the vehicle does ${(v * 3.6).toFixed(1)} km/h at ${crashAtS} s, a crash needs ≥ ${MIN_CRASH_DELTA_V_KMH} km/h${hint}`,
      );
    }
    const keep = this.knotT.findIndex((t) => t >= crashAtS);
    const end = this.knotT[this.knotT.length - 1] ?? 0;
    this.knotT.splice(keep);
    this.knotV.splice(keep);
    this.knotT.push(crashAtS, crashAtS + CRASH_PULSE_S, end);
    this.knotV.push(v, 0, 0);
    return {
      atS: crashAtS,
      durationS: CRASH_PULSE_S,
      deltaVKmh: v * 3.6,
      meanAccelMs2: -v / CRASH_PULSE_S,
    };
  }

  private knotIndex(t: number): number {
    let lo = 0;
    let hi = this.knotT.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.knotT[mid] ?? 0) <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private slope(i: number): number {
    const dt = (this.knotT[i + 1] ?? 0) - (this.knotT[i] ?? 0);
    return ((this.knotV[i + 1] ?? 0) - (this.knotV[i] ?? 0)) / dt;
  }

  private speedMs(t: number): number {
    const i = this.knotIndex(t);
    return Math.max(0, (this.knotV[i] ?? 0) + this.slope(i) * (t - (this.knotT[i] ?? 0)));
  }

  /** dv/dt of the linear interpolation: constant within each 1-s step of the cycle. */
  private accelMs2(t: number): number {
    return this.slope(this.knotIndex(t));
  }

  private powertrain(speedMs: number, accel: number, gear: number): Powertrain {
    const rpm = gear === 0 ? IDLE_RPM : engineRpm(speedMs, gear);
    const resistN =
      speedMs > 0
        ? 0.5 * AIR_DENSITY * CDA_M2 * speedMs * speedMs + ROLLING_COEFF * MASS_KG * G
        : 0;
    const wheelKw = ((MASS_KG * accel + resistN) * speedMs) / 1000;
    const engineKw = Math.max(0, wheelKw) / DRIVETRAIN_EFFICIENCY + ACCESSORY_KW;
    const availableKw = PEAK_KW * Math.min(1, rpm / PEAK_POWER_RPM);
    const loadPct = Math.min(100, (engineKw / availableKw) * 100);
    const overrun = wheelKw < 0 && rpm > FUEL_CUT_RPM;
    const fuelGs = overrun ? 0 : Math.max(IDLE_FUEL_GS, (engineKw * BSFC_G_PER_KWH) / 3600);
    // Air still flows on overrun (throttle closed, engine pumping): roughly idle flow × rpm.
    const mafGs = Math.max(
      fuelGs * STOICHIOMETRIC_AFR,
      ((IDLE_FUEL_GS * STOICHIOMETRIC_AFR) / 2) * (rpm / IDLE_RPM),
    );
    const throttlePct = wheelKw > 0 ? Math.min(100, 4 + loadPct * 0.9) : 0;
    return { rpm, loadPct, throttlePct, fuelGs, mafGs };
  }

  private buildRoad(totalM: number): void {
    const random = mulberry32(this.seed ^ 0x5eed);
    let at = 0;
    while (at < totalM + 1000) {
      const pick = random();
      const sign = random() < 0.5 ? -1 : 1;
      if (pick < 0.5) {
        at += 150 + 450 * random();
        this.road.push({ endM: at, curvature: 0 });
      } else if (pick < 0.85) {
        const radius = 200 + 800 * random();
        at += 100 + 200 * random();
        this.road.push({ endM: at, curvature: sign / radius });
      } else {
        // A junction: a right-angle turn; MAX_LATERAL_MS2 widens it at speed.
        const radius = 12 + 15 * random();
        at += (Math.PI / 2) * radius;
        this.road.push({ endM: at, curvature: sign / radius });
      }
    }
  }

  private curvatureAt(distanceM: number): number {
    let lo = 0;
    let hi = this.road.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.road[mid]?.endM ?? 0) > distanceM) hi = mid;
      else lo = mid + 1;
    }
    return this.road[lo]?.curvature ?? 0;
  }

  private yawRateRadS(t: number): number {
    const v = this.speedMs(t);
    if (v < 0.1) return 0;
    const curvature = this.curvatureAt(this.distanceM(t));
    const bounded = Math.sign(curvature) * Math.min(Math.abs(curvature), MAX_LATERAL_MS2 / (v * v));
    return v * bounded;
  }

  private altitudeAt(distanceM: number): number {
    return this.start.altitudeM + 15 * Math.sin(distanceM / 1500) + 4 * Math.sin(distanceM / 370);
  }

  private integrate(n: number): void {
    let heading = this.start.headingDeg;
    let lat = this.start.latitude;
    let lon = this.start.longitude;
    let fuelG = 0;
    let gear = 0;
    for (let k = 0; k < n; k++) {
      const t0 = Math.min(k * GRID_S, this.durationS);
      const t1 = Math.min((k + 1) * GRID_S, this.durationS);
      const mid = (t0 + t1) / 2;
      const v = this.speedMs(t0);
      const accel = this.accelMs2(t0);
      // Gear with hysteresis: up-shift later when the driver asks for more power.
      if (v < 0.5 && accel <= 0) gear = 0;
      else {
        if (gear === 0) gear = 1;
        const load = this.powertrain(v, accel, gear).loadPct / 100;
        const upshiftRpm = 2000 + 2000 * load;
        while (gear < GEAR_RATIOS.length && engineRpm(v, gear) > upshiftRpm) gear++;
        while (gear > 1 && engineRpm(v, gear) < DOWNSHIFT_RPM) gear--;
      }
      this.gridGear[k] = this.engineRunningAt(t0) ? gear : 0;
      this.gridHeading[k] = heading;
      this.gridLat[k] = lat;
      this.gridLon[k] = lon;
      this.gridFuelG[k] = fuelG;
      if (t1 <= t0) continue;
      const dt = t1 - t0;
      if (this.engineRunningAt(mid)) {
        fuelG += this.powertrain(this.speedMs(mid), this.accelMs2(mid), gear).fuelGs * dt;
      }
      const headingMid = heading + (this.yawRateRadS(mid) * dt * 90) / Math.PI;
      const ds = this.distanceM(t1) - this.distanceM(t0);
      const h = (headingMid * Math.PI) / 180;
      const latRad = (lat * Math.PI) / 180;
      lat += ((ds * Math.cos(h)) / EARTH_RADIUS_M) * (180 / Math.PI);
      lon += ((ds * Math.sin(h)) / (EARTH_RADIUS_M * Math.cos(latRad))) * (180 / Math.PI);
      heading += (this.yawRateRadS(mid) * dt * 180) / Math.PI;
    }
  }
}
