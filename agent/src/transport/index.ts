export * from './errors.js';
export * from './topics.js';
export * from './broker-url.js';
export * from './mqtt-batch-transport.js';
