export * from './vehicle-data.js';
export * from './vin-file.js';
