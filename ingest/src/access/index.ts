export * from './access-record.js';
export * from './access-service.js';
export * from './access-store.js';
export * from './password.js';
