export * from './source/index.js';
