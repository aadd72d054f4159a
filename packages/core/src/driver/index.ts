export * from './compute-driver.js';
export * from './abstract-driver.js';
export * from './operations.js';
export * from './extensions/vm-streaming.js';
