export * from './node-message.js';
