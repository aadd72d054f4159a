import { ExecaProcessRunner, UnsupportedOperationError } from '@virtplug/core';
import { CompositeTransport } from './composite.js';
import { InMemoryTransport } from './memory.js';
import { ROUTES } from './routes.js';
import type { TransportMethod } from './port.js';
import { VirshTransport } from './virsh.js';

describe('CompositeTransport routing', () => {
  const methods = Object.getOwnPropertyNames(CompositeTransport.prototype).filter((m) => m !== 'constructor' && m !== 'routeOf' && m !== 'uri' && !m.startsWith('call') && m !== 'target' && m !== 'refusal');

  it('has a route for every transport method, and implements each one', () => {
    expect(methods.sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it('sends binding calls to the binding and the rest to virsh', async () => {
    const binding = new InMemoryTransport();
    const virsh = new InMemoryTransport();
    await binding.open();
    await virsh.open();
    const t = new CompositeTransport(binding, virsh, false);
    expect(t.routeOf('getInfo')).toBe('binding');
    expect(t.routeOf('attachDevice')).toBe('virsh');
    await t.hostname();
    await t.managedSaveRemove('x').catch(() => undefined);
    expect(binding.calls).toEqual(['open']);
    expect(virsh.calls).toEqual(['open']);
    await t.define('<domain type="qemu"><name>a</name><uuid>3b0c3b2e-5d0a-4c43-9a55-6c9f1d2e7a10</uuid></domain>');
    expect(binding.calls).toContain('define');
  });

  it('falls back to virsh for an undefine the binding refuses because of a managed-save image', async () => {
    const binding = new InMemoryTransport();
    const virsh = new InMemoryTransport();
    await binding.open();
    await virsh.open();
    const uuid = '3b0c3b2e-5d0a-4c43-9a55-6c9f1d2e7a10';
    const xml = `<domain type="qemu"><name>a</name><uuid>${uuid}</uuid><memory>1024</memory><vcpu>1</vcpu></domain>`;
    for (const t of [binding, virsh]) {
      await t.define(xml);
      await t.start(uuid);
      await t.managedSave(uuid);
    }
    // The binding's undefine takes no flags: model it refusing like libvirt does.
    binding.undefine = (u: string) => InMemoryTransport.prototype.undefine.call(binding, u, {});
    const t = new CompositeTransport(binding, virsh, false);
    await t.undefine(uuid, { removeAll: true });
    expect(virsh.calls).toContain(`undefine ${uuid}`);
    await expect(t.undefine(uuid)).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('without a binding (transport = virsh), everything goes to virsh', () => {
    const t = new CompositeTransport(null, new InMemoryTransport(), false);
    for (const m of Object.keys(ROUTES) as TransportMethod[]) expect(t.routeOf(m)).toBe('virsh');
  });

  it("refuses virsh-only calls on libvirt's per-connection test driver, except stateless ones", async () => {
    const virsh = new VirshTransport('test:///default', new ExecaProcessRunner(), 5000);
    const t = new CompositeTransport(new InMemoryTransport(), virsh, true);
    expect(t.routeOf('attachDevice')).toBe('unsupported');
    expect(t.routeOf('versions')).toBe('virsh');
    await expect(t.managedSave('3b0c3b2e-5d0a-4c43-9a55-6c9f1d2e7a10')).rejects.toBeInstanceOf(UnsupportedOperationError);
    await expect(t.restore('/x', { xml: '<domain/>' })).rejects.toThrow(/keeps state per connection/);
  });
});
