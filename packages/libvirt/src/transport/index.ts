export * from './port.js';
export * from './uri.js';
export * from './errors.js';
export * from './routes.js';
export * from './binding.js';
export * from './virsh.js';
export * from './composite.js';
export * from './memory.js';
export { withTimeout, pollUntil } from './timeout.js';
