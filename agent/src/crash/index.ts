export * from './crash-recorder.js';
