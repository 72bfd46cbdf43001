export * from './topics.js';
export * from './embedded-broker.js';
