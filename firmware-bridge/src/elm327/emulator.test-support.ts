/**
 * Test-only: the ELM327 emulator and a fixed vehicle for the tests of this folder. The
 * emulator lives in @enginechain/hardware; imported by path until the hardware barrel exports
 * `./elm327/index.js` (then: `from '@enginechain/hardware'`).
 */
import type { VehicleSnapshot } from '../../../hardware/src/vehicle/state.js';

export {
  startElm327Server,
  Elm327Faults,
  type Elm327Server,
} from '../../../hardware/src/elm327/index.js';
export { openPtyPair } from '../../../hardware/src/pty/index.js';

export const TEST_VIN = '1HGCM82633A004352';

/** A car at 50 km/h, 1726 rpm: the J1979 example values, so expectations are exact. */
export function fixedVehicle(overrides: Partial<VehicleSnapshot> = {}): () => VehicleSnapshot {
  const start = Date.now();
  return () => ({
    timeS: (Date.now() - start) / 1000,
    vin: TEST_VIN,
    speedKmh: 50,
    engineRpm: 1726,
    engineRunning: true,
    gear: 3,
    throttlePct: 20,
    engineLoadPct: 35,
    coolantC: 83,
    intakeAirC: 29,
    ambientAirC: 20,
    mafGs: 5,
    fuelLevelPct: 60,
    batteryV: 14.1,
    runTimeS: 300,
    odometerKm: 12345.6,
    latitude: 48.1,
    longitude: 11.5,
    altitudeM: 520,
    headingDeg: 90,
    accelLongMs2: 0,
    accelLatMs2: 0,
    yawRateDegS: 0,
    dtcs: ['P0301', 'P0420'],
    wallClockMs: Date.now(),
    ...overrides,
  });
}
