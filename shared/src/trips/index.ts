export * from './trip-tracker.js';
