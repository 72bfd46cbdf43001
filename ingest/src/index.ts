export * from './broker/index.js';
export * from './storage/index.js';
export * from './auth/index.js';
export * from './pipeline/index.js';
export * from './sidechain/index.js';
export * from './http/index.js';
export * from './node/index.js';
export * from './evidence/index.js';
