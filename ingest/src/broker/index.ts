export * from './topics.js';
export * from './errors.js';
export * from './listeners.js';
export * from './tls-material.js';
export * from './embedded-broker.js';
export * from './refusals.js';
