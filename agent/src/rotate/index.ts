export * from './rotate-key.js';
