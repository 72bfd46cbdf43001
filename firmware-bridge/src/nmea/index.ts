export * from './errors.js';
export * from './parse.js';
export * from './decoder.js';
export * from './serial-line-source.js';
export * from './nmea-source.js';
