export * from './token-authenticator.js';
