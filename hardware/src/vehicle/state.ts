/**
 * One instant of the simulated vehicle. The vehicle model produces it; every emulator
 * (ELM327, SLCAN, NMEA, IMU) answers from it, so all interfaces describe the same car.
 */
export interface VehicleSnapshot {
  /** Seconds since the drive cycle started (simulated time, after speed-up). */
  readonly timeS: number;
  readonly vin: string;
  readonly speedKmh: number;
  readonly engineRpm: number;
  /** 0 when the engine is off. */
  readonly engineRunning: boolean;
  readonly gear: number;
  readonly throttlePct: number;
  readonly engineLoadPct: number;
  readonly coolantC: number;
  readonly intakeAirC: number;
  readonly ambientAirC: number;
  /** Mass air flow, g/s. */
  readonly mafGs: number;
  readonly fuelLevelPct: number;
  /** Battery / control module voltage, V. */
  readonly batteryV: number;
  /** Seconds since engine start (J1979 PID 1F). */
  readonly runTimeS: number;
  readonly odometerKm: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly altitudeM: number;
  /** Course over ground, degrees from true north. */
  readonly headingDeg: number;
  /** Longitudinal acceleration, m/s² (positive forward), noise included when enabled. */
  readonly accelLongMs2: number;
  readonly accelLatMs2: number;
  readonly yawRateDegS: number;
  /** Stored diagnostic trouble codes, e.g. `P0301`. */
  readonly dtcs: readonly string[];
  /** Unix epoch ms of this instant as the vehicle's GNSS would report it. */
  readonly wallClockMs: number;
}

/** Anything an emulator can ask for the vehicle's current state. */
export type VehicleStateProvider = () => VehicleSnapshot;
