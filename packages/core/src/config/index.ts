export * from './options.js';
export * from './config.js';
