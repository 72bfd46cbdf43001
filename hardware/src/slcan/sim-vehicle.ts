import { readFileSync } from 'node:fs';
import { parseDbc, type DbcDatabase, type VssSignalMapping } from '@enginechain/firmware-bridge';
import { hardwareDataPath } from '../data-path.js';
import type { VehicleSnapshot } from '../vehicle/state.js';

/** hardware/data/sim-vehicle.dbc: the simulated car's CAN messages. */
export const SIM_VEHICLE_DBC_PATH = hardwareDataPath('sim-vehicle.dbc');

export function loadSimVehicleDbc(): DbcDatabase {
  return parseDbc(readFileSync(SIM_VEHICLE_DBC_PATH, 'utf8'));
}

/** The sim DBC's signals from one vehicle instant, by message name. */
export function simVehicleSignals(s: VehicleSnapshot): Record<string, Record<string, number>> {
  return {
    POWERTRAIN: {
      ENGINE_RPM: s.engineRpm,
      VEHICLE_SPEED: s.speedKmh,
      THROTTLE: s.throttlePct,
      ENGINE_LOAD: s.engineLoadPct,
      GEAR: s.gear,
      ENGINE_RUNNING: s.engineRunning ? 1 : 0,
    },
    ENGINE_TEMPS: {
      COOLANT_TEMP: s.coolantC,
      INTAKE_AIR_TEMP: s.intakeAirC,
      AMBIENT_AIR_TEMP: s.ambientAirC,
      MAF: s.mafGs,
      BATTERY_VOLTAGE: s.batteryV,
    },
    FUEL_ODOMETER: { FUEL_LEVEL: s.fuelLevelPct, ODOMETER: s.odometerKm, RUN_TIME: s.runTimeS },
    MOTION: { ACCEL_LONG: s.accelLongMs2, ACCEL_LAT: s.accelLatMs2, YAW_RATE: s.yawRateDegS },
  };
}

/** How a `DbcSignalSource` reads the simulated car as VSS (use with `loadSimVehicleDbc()`). */
export const SIM_VEHICLE_VSS_MAPPING: readonly VssSignalMapping[] = [
  { message: 'POWERTRAIN', signals: 'VEHICLE_SPEED', name: 'Vehicle.Speed', unit: 'km/h' },
  {
    message: 'POWERTRAIN',
    signals: 'ENGINE_RPM',
    name: 'Vehicle.Powertrain.CombustionEngine.Speed',
    unit: 'rpm',
  },
  {
    message: 'POWERTRAIN',
    signals: 'THROTTLE',
    name: 'Vehicle.OBD.ThrottlePosition',
    unit: 'percent',
  },
  {
    message: 'POWERTRAIN',
    signals: 'ENGINE_LOAD',
    name: 'Vehicle.OBD.EngineLoad',
    unit: 'percent',
  },
  {
    message: 'POWERTRAIN',
    signals: 'GEAR',
    name: 'Vehicle.Powertrain.Transmission.CurrentGear',
    unit: '',
  },
  {
    message: 'ENGINE_TEMPS',
    signals: 'COOLANT_TEMP',
    name: 'Vehicle.Powertrain.CombustionEngine.ECT',
    unit: 'celsius',
  },
  {
    message: 'ENGINE_TEMPS',
    signals: 'INTAKE_AIR_TEMP',
    name: 'Vehicle.OBD.IntakeTemp',
    unit: 'celsius',
  },
  {
    message: 'ENGINE_TEMPS',
    signals: 'AMBIENT_AIR_TEMP',
    name: 'Vehicle.Exterior.AirTemperature',
    unit: 'celsius',
  },
  { message: 'ENGINE_TEMPS', signals: 'MAF', name: 'Vehicle.OBD.MAF', unit: 'g/s' },
  {
    message: 'ENGINE_TEMPS',
    signals: 'BATTERY_VOLTAGE',
    name: 'Vehicle.LowVoltageBattery.CurrentVoltage',
    unit: 'V',
  },
  {
    message: 'FUEL_ODOMETER',
    signals: 'FUEL_LEVEL',
    name: 'Vehicle.Powertrain.FuelSystem.RelativeLevel',
    unit: 'percent',
  },
  { message: 'FUEL_ODOMETER', signals: 'ODOMETER', name: 'Vehicle.TraveledDistance', unit: 'km' },
  { message: 'FUEL_ODOMETER', signals: 'RUN_TIME', name: 'Vehicle.OBD.RunTime', unit: 's' },
  {
    message: 'MOTION',
    signals: 'ACCEL_LONG',
    name: 'Vehicle.Acceleration.Longitudinal',
    unit: 'm/s^2',
  },
  { message: 'MOTION', signals: 'ACCEL_LAT', name: 'Vehicle.Acceleration.Lateral', unit: 'm/s^2' },
];
