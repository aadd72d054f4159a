import type { DriverModule } from '../registry/driver-module.js';
import { FAKE_CAPABILITIES, FakeDriver } from './fake-driver.js';

export const driverModule: DriverModule<FakeDriver> = {
  name: 'fake',
  title: 'Fake (in-memory reference driver)',
  aliases: ['fake.FakeDriver'],
  capabilities: FAKE_CAPABILITIES,
  async probe() {
    return { usable: true, reason: 'in-memory; always available', backendVersion: '1.0' };
  },
  inMatrix: false,
  create: () => new FakeDriver(),
  async smoke(_driver, { evidenceDir }) {
    return {
      label: 'fake',
      image: { id: 'fake-image', name: 'fake', diskFormat: 'qcow2', path: '/images/fake.qcow2' },
      badImage: { id: 'fake-bad', name: 'bad', diskFormat: 'qcow2', path: '/images/bad.qcow2', properties: { fake_fail: 'spawn' } },
      evidence: { dir: evidenceDir, mode: 'in-memory', backend: async () => ({ name: 'in-memory', version: '1.0' }) },
    };
  },
};
export default driverModule;
