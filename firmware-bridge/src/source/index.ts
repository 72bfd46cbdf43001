export * from './types.js';
export * from './errors.js';
export * from './reading-queue.js';
export * from './reconnecting.js';
export * from './serial-port.js';
