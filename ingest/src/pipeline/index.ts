export * from './rejections.js';
export * from './verifier-pool.js';
export * from './batch-ingestor.js';
