export * from './tree.js';
export * from './names.js';
export * from './domain-spec.js';
export * from './metadata.js';
export * from './build.js';
export * from './read.js';
