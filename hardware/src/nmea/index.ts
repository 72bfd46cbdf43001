export * from './sentences.js';
export * from './emulator.js';
export * from './line-emitter.js';
