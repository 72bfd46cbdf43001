export * from './events/index.js';
export * from './crash/index.js';
export * from './trips/index.js';
export * from './sampling/index.js';
export * from './ops/index.js';
export * from './config/index.js';
export * from './batching/batch-assembler.js';
export * from './provision/index.js';
