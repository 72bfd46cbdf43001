export * from './reply.js';
export * from './transport.js';
export * from './link.js';
export * from './client.js';
export * from './source.js';
