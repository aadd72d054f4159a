import 'reflect-metadata';

export * from './errors.js';
export * from './model/index.js';
export * from './capabilities/index.js';
export * from './driver/index.js';
export * from './config/index.js';
export * from './registry/index.js';
export * from './process/index.js';
export * from './report/index.js';
export { KeyedMutex } from './util/keyed-mutex.js';
export { writeJsonAtomic } from './util/atomic-json.js';
export { httpRequest, readBody, HttpRequestError, type HttpRequestOptions } from './util/http-request.js';
export { createHttpServer } from './util/http-server.js';
export { tokensEqual } from './util/tokens.js';
export { assertOwnerOnly, readCaFile, readServerTls, type ServerTls } from './util/tls-files.js';
export { readEvidenceDir, writeEvidence, EvidenceRecorder } from './testing/evidence-writer.js';
export { FakeDriver } from './testing/fake-driver.js';
// The contract kit's runner without jest, for `virtplug smoke` (jest users import @virtplug/core/testing).
export { runDriverContract, ContractSession, type CheckOutcome } from './testing/contract/session.js';
export type { ContractOptions, GuestProbe, VolumeFixture, VolumeKind } from './testing/contract/options.js';
