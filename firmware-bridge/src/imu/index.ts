export * from './protocol.js';
export * from './decoder.js';
export * from './imu-source.js';
