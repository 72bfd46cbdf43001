export * from './errors.js';
export * from './device-admin.js';
export * from './operator-token.js';
export * from './key-rotation.js';
