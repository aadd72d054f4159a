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
  create: () => new FakeDriver(),
};
export default driverModule;
