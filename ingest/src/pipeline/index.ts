export * from './rejections.js';
export * from './verifier-pool.js';
export * from './verified-batch.js';
export * from './batch-group-writer.js';
export * from './batch-ingestor.js';
export * from './pipeline-admission.js';
