export * from './types.js';
export * from './event-detector.js';
