export * from './ingest-store.js';
export * from './migrations.js';
export * from './open-store.js';
export type { PostgresIngestStore } from './postgres-store.js';
export * from './sqlite-store.js';
