import { fileURLToPath } from 'node:url';
import { FakeDriver } from './fake-driver.js';
import { describeDriverContract } from './contract/index.js';

let n = 0;
const evidenceDir = fileURLToPath(new URL('../../../../docs/evidence', import.meta.url));

describeDriverContract(async () => new FakeDriver(), {
  label: 'fake',
  image: { id: 'img-1', name: 'tiny', diskFormat: 'qcow2', path: '/images/tiny.qcow2' },
  badImage: { id: 'img-bad', name: 'bad', diskFormat: 'qcow2', path: '/images/bad.qcow2', properties: { fake_fail: 'spawn' } },
  evidence: { dir: evidenceDir, mode: 'in-memory', backend: async () => ({ name: 'in-memory', version: '1.0' }) },
  volumes: {
    // A new volume per call: the swap check attaches one and swaps it for a second.
    file: async () => ({ connectionInfo: { driverVolumeType: 'file', volumeId: `v1-${++n}`, data: { path: `/vols/v1-${n}.img` } }, mountpoint: '/dev/vdb' }),
    iscsiChap: async () => ({
      connectionInfo: {
        driverVolumeType: 'iscsi',
        volumeId: `v2-${++n}`,
        data: { targetPortal: '127.0.0.1:3260', targetIqn: `iqn.2026-11.io.virtplug:v2-${n}`, targetLun: 1, authMethod: 'CHAP', authUsername: 'u', authPassword: 'p' },
      },
      mountpoint: '/dev/vdc',
    }),
  },
});
