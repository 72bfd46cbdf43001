export * from './provision.js';
export * from './board-profile.js';
