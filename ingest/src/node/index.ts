export * from './ingest-metrics.js';
export * from './ingest-node.js';
