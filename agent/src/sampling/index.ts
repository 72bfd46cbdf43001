export * from './agent-clock.js';
export * from './merge-sources.js';
