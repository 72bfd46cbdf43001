export * from './node-keys.js';
export * from './sidechain.js';
export * from './receipt-dispatcher.js';
