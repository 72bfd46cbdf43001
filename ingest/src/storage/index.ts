export * from './ingest-store.js';
export * from './migrations.js';
export * from './sqlite-store.js';
