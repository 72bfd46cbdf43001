export * from './errors.js';
export * from './outbox-store.js';
