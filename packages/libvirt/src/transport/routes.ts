import type { TransportMethod } from './port.js';

export type Route = 'binding' | 'virsh';

/**
 * Which adapter serves each call (documented in packages/libvirt/README.md). The binding is in-process
 * and ~100x faster per call, so it serves every call it has; virsh serves the rest. Two calls are
 * split by arguments (see CompositeTransport): `undefine` with removeAll falls back to virsh when a
 * managed-save image or snapshots block the plain undefine, and `restore` with an XML override.
 */
export const ROUTES: Readonly<Record<TransportMethod, Route>> = Object.freeze({
  open: 'binding',
  close: 'binding',
  hostname: 'binding',
  nodeInfo: 'binding',
  versions: 'virsh', // no virConnectGetLibVersion/GetVersion in the binding
  listDomains: 'binding',
  listManagedSave: 'binding', // virConnectListAllDomains(MANAGEDSAVE)
  lookup: 'binding',
  find: 'binding',
  lookupByName: 'binding',
  getInfo: 'binding',
  getXml: 'binding',
  define: 'binding',
  undefine: 'binding',
  start: 'binding',
  destroy: 'binding',
  shutdown: 'binding',
  suspend: 'binding',
  resume: 'binding',
  save: 'binding',
  restore: 'binding',
  reboot: 'virsh',
  reset: 'virsh',
  managedSave: 'virsh',
  managedSaveRemove: 'virsh',
  setMemory: 'virsh',
  setMaxMemory: 'virsh',
  setVcpus: 'virsh',
  attachDevice: 'virsh',
  detachDevice: 'virsh',
  setMetadata: 'virsh',
  domifSetLink: 'virsh',
  memtune: 'virsh',
  snapshotCreateAs: 'virsh',
  snapshotList: 'virsh',
  snapshotRevert: 'virsh',
  snapshotDelete: 'virsh',
  blockCommit: 'virsh',
  blockCopy: 'virsh', // no virDomainBlockCopy/BlockJobAbort in the binding
  blockJobAbort: 'virsh',
  migrate: 'virsh',
  domstats: 'virsh',
  qemuMonitorCommand: 'virsh',
  secretDefine: 'virsh',
  secretSetValueFromFile: 'virsh',
  secretUndefine: 'virsh',
  secretList: 'virsh',
});
