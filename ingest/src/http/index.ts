export * from './errors.js';
export * from './enrolment-service.js';
export * from './app.js';
