export * from './options.js';
export * from './config.js';
export * from './evidence-dir.js';
