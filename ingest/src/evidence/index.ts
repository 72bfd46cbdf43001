export * from './evidence-builder.js';
