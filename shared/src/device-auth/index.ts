export * from './device-auth.js';
