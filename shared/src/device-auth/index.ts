export * from './device-auth.js';
export * from './key-rotation.js';
