export * from './evidence-format.js';
export * from './sign-evidence.js';
export * from './verify-evidence.js';
