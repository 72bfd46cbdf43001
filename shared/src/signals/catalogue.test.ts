import { describe, expect, it } from 'vitest';
import { SIGNAL_CATALOGUE, signalForObd, signalInfo } from './catalogue.js';

// The VSS units enginechain uses (VSS units.yaml spellings) plus the few J1979 ones VSS lacks.
const UNITS = new Set([
  '',
  'km/h',
  'rpm',
  'celsius',
  'percent',
  'V',
  'mA',
  'm/s^2',
  'degrees/s',
  'kPa',
  'Pa',
  'g/s',
  'l/h',
  's',
  'min',
  'km',
  'm',
  'degrees',
  'ratio',
  'Nm',
  'kg/h',
  'mg/stroke',
  'ppm',
  'A',
  'h',
  'mg/m^3',
]);

describe('signal catalogue', () => {
  it('names are VSS paths, units VSS units, every entry described', () => {
    expect(SIGNAL_CATALOGUE.length).toBeGreaterThan(150);
    for (const s of SIGNAL_CATALOGUE) {
      expect(s.name).toMatch(/^Vehicle(\.[A-Z][A-Za-z0-9]*)+$/);
      expect(UNITS.has(s.unit), `${s.name} unit ${s.unit}`).toBe(true);
      expect(s.description.length).toBeGreaterThan(5);
      expect(Object.isFrozen(s)).toBe(true);
    }
  });

  it('holds the headline and non-OBD signals under the names the other sources emit', () => {
    const expected: [string, string][] = [
      ['Vehicle.Speed', 'km/h'],
      ['Vehicle.Powertrain.CombustionEngine.Speed', 'rpm'],
      ['Vehicle.Powertrain.CombustionEngine.ECT', 'celsius'],
      ['Vehicle.Powertrain.FuelSystem.RelativeLevel', 'percent'],
      ['Vehicle.OBD.ThrottlePosition', 'percent'],
      ['Vehicle.OBD.EngineLoad', 'percent'],
      ['Vehicle.OBD.MAF', 'g/s'],
      ['Vehicle.CurrentLocation.Latitude', 'degrees'],
      ['Vehicle.CurrentLocation.Longitude', 'degrees'],
      ['Vehicle.CurrentLocation.Altitude', 'm'],
      ['Vehicle.CurrentLocation.Heading', 'degrees'],
      ['Vehicle.Acceleration.Longitudinal', 'm/s^2'],
      ['Vehicle.Acceleration.Lateral', 'm/s^2'],
      ['Vehicle.AngularVelocity.Yaw', 'degrees/s'],
      ['Vehicle.Chassis.SteeringWheel.Angle', 'degrees'],
      ['Vehicle.TraveledDistance', 'km'],
      ['Vehicle.LowVoltageBattery.CurrentVoltage', 'V'],
      ['Vehicle.OBD.DTCList', ''],
      ['Vehicle.VehicleIdentification.VIN', ''],
    ];
    for (const [name, unit] of expected) expect(signalInfo(name)?.unit, name).toBe(unit);
    expect(signalInfo('Vehicle.OBD.DTCList')?.datatype).toBe('string[]');
  });

  it('looks up by OBD key, one entry per key', () => {
    expect(signalForObd('01:0D')?.name).toBe('Vehicle.Speed');
    expect(signalForObd('01:24/lambda')).toBe(signalForObd('01:34/lambda'));
    expect(signalForObd('ATRV')?.name).toBe('Vehicle.LowVoltageBattery.CurrentVoltage');
    expect(signalForObd('01:FF')).toBeUndefined();
  });

  it('says undefined for unknown names and throws on a non-string', () => {
    expect(signalInfo('Vehicle.Nope')).toBeUndefined();
    expect(() => signalInfo(42 as unknown as string)).toThrow(/name must be a string/);
    expect(() => signalForObd(null as unknown as string)).toThrow(/key must be a string/);
  });
});
