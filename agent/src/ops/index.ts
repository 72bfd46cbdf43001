export * from './systemd-notify.js';
export * from './metrics.js';
export * from './heap-collector.js';
