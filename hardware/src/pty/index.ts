export * from './pty-pair.js';
