export * from './source/index.js';
export * from './nmea/index.js';
export * from './imu/index.js';
