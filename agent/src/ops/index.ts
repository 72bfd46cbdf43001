export * from './systemd-notify.js';
export * from './metrics.js';
