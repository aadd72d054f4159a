import { sample } from '../../../test/helpers/samples.js';
import { parseExtPacks } from './extpacks.js';

const WARNING =
  'WARNING: The vboxdrv kernel module is not loaded. Either there is no module\n' +
  '         available for the current kernel (5.1.11-300.fc25.x86_64) or it failed to\n' +
  '         load. Please recompile the kernel module and install it by\n\n' +
  '           sudo /sbin/vboxconfig\n\n' +
  '         You will not be able to start VMs until this problem is fixed.\n';

describe('list extpacks parser', () => {
  it('reads the 4.3.4 alignment (S7)', () => {
    expect(parseExtPacks(sample('S7-list-extpacks-4.3.4.txt'))).toEqual([
      {
        index: 0,
        name: 'Oracle VM VirtualBox Extension Pack',
        version: '4.3.4',
        revision: '91027',
        description: 'USB 2.0 Host Controller, Host Webcam, VirtualBox RDP, PXE ROM with E1000 support.',
        vrdeModule: 'VBoxVRDP',
        usable: true,
      },
    ]);
  });

  it('reads the 7.0.12 alignment (S7), with a trailing-space Edition and a Crypto Module line', () => {
    const [pack] = parseExtPacks(sample('S7-list-extpacks-7.0.12.txt'));
    expect(pack).toMatchObject({ name: 'Oracle VM VirtualBox Extension Pack', version: '7.0.12', revision: '159484', vrdeModule: 'VBoxVRDP', usable: true });
  });

  it('reads packs after a WARNING preamble (S7, Fedora 5.2.30 case)', () => {
    const packs = parseExtPacks(WARNING + sample('S7-list-extpacks-4.3.4.txt'));
    expect(packs.map((p) => p.name)).toEqual(['Oracle VM VirtualBox Extension Pack']);
  });

  it('keeps the nova-virtualbox test vector', () => {
    expect(parseExtPacks('Pack no. 0:   VNC\nPack no. 1    Invalid\n').map((p) => p.name)).toEqual(['VNC']);
  });

  it("reads the seed's two-pack listing (tab-indented) and unusable packs", () => {
    const text = 'Extension Packs: 2\nPack no. 0:   Oracle VM VirtualBox Extension Pack\nVRDE Module:  VBoxVRDP\nUsable:       true \n\nPack no. 1:   VNC\nVRDE Module:  VBoxVNC\nUsable:       false\nWhy unusable: VBoxVNC.so missing\n';
    expect(parseExtPacks(text)).toEqual([
      { index: 0, name: 'Oracle VM VirtualBox Extension Pack', vrdeModule: 'VBoxVRDP', usable: true },
      { index: 1, name: 'VNC', vrdeModule: 'VBoxVNC', usable: false, whyUnusable: 'VBoxVNC.so missing' },
    ]);
  });
});
