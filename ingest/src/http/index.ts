export * from './errors.js';
export * from './enrolment-service.js';
export * from './app.js';
export * from './principal.js';
export * from './auth-routes.js';
export * from './grant-routes.js';
export * from './vehicle-routes.js';
