export * from './pty/index.js';
export * from './vehicle/index.js';
export * from './nmea/index.js';
export * from './imu/index.js';
export * from './slcan/index.js';
export * from './elm327/index.js';
export {
  startSimulation,
  type SimulationOptions,
  type SimulationInterfaces,
  type RunningSimulation,
} from './cli/simulate.js';
export { startEnginechain, type EnginechainProcess } from './demo/processes.js';
export { runDemo, type DemoOptions, type DemoSummary } from './demo/demo.js';
export { kitUnitNodeOptions, kitUnitPath, type KitUnit } from './kit/kit-units.js';
