export * from './contract/index.js';
export * from './evidence-writer.js';
export * from './fake-driver.js';
export { driverModule as fakeDriverModule } from './fake-driver-module.js';
