import 'reflect-metadata';

export * from './errors.js';
export * from './model/index.js';
export * from './capabilities/index.js';
export * from './driver/index.js';
export * from './config/index.js';
export * from './registry/index.js';
export * from './process/index.js';
export * from './report/index.js';
export { readEvidenceDir, writeEvidence, EvidenceRecorder } from './testing/evidence-writer.js';
export { FakeDriver } from './testing/fake-driver.js';
