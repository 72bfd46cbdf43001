export * from './source/index.js';
export * from './nmea/index.js';
export * from './imu/index.js';
export * from './can/index.js';
export * from './dbc/index.js';
export * from './elm327/index.js';
export * from './obd/index.js';
