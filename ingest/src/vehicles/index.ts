export * from './vehicle-data.js';
export * from './vin-file.js';
export * from './vehicle-trips.js';
