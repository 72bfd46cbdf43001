export * from './slcan-device.js';
export * from './sim-vehicle.js';
