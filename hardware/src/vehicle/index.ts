export * from './state.js';
export * from './errors.js';
export * from './drive-cycle.js';
export * from './simulator.js';
export * from './clock.js';
export { mulberry32, gaussianAt } from './random.js';
