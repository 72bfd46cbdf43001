export * from './log-entry.js';
