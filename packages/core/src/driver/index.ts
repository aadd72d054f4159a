export * from './compute-driver.js';
export * from './abstract-driver.js';
export * from './operations.js';
export * from './extensions/vm-streaming.js';
export * from './extensions/guest-agent.js';
export * from './extensions/memory-images.js';
