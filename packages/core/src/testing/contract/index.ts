export * from './options.js';
export * from './checks.js';
export * from './session.js';
export * from './jest.js';
