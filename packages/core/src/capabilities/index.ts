export * from './catalogue.js';
export * from './declarations.js';
export * from './evidence.js';
