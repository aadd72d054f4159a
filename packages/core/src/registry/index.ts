export * from './tokens.js';
export * from './driver-module.js';
export * from './registry.js';
