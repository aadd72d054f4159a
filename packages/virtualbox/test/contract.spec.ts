import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from '@jest/globals';
import { ExecaProcessRunner } from '@virtplug/core';
import { describeDriverContract } from '@virtplug/core/testing';
import { contractOptions } from '../src/smoke.js';
import { parseExtPacks } from '../src/vboxmanage/parse/extpacks.js';
import { Harness, makeDriver } from './helpers/harness.js';
import { livePacks, liveVBoxManage } from './helpers/backend.js';

/**
 * The core contract against the VirtualBox driver. With a real VBoxManage on PATH (or
 * VIRTPLUG_VBOXMANAGE) it runs live and records `live` evidence; otherwise it runs against the replay
 * harness and records `replay`. VRDE serves one protocol per configuration, so the kit runs once with
 * the VNC pack (evidence `virtualbox`) and once with the Oracle pack for RDP (`virtualbox-rdp`).
 */
const evidenceDir = fileURLToPath(new URL('../../../docs/evidence', import.meta.url));
const live = liveVBoxManage();
const scratch = mkdtempSync(join(tmpdir(), 'vp-vbox-contract-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const VARIANTS = [
  { file: 'virtualbox', label: 'virtualbox (VNC)', vrdeModule: 'VNC', pack: /^VBoxVNC$/ },
  { file: 'virtualbox-rdp', label: 'virtualbox (RDP)', vrdeModule: 'Oracle VM VirtualBox Extension Pack', pack: /^VBoxVRDP$/ },
];

function variants() {
  if (!live) return VARIANTS;
  // Live: the packs this host has; without any, one run with VRDE off (consoles then declared missing).
  const packs = parseExtPacks(livePacks(live)).filter((p) => p.usable);
  const usable = VARIANTS.filter((v) => packs.some((p) => v.pack.test(p.vrdeModule ?? '')));
  return usable.length ? usable : [{ ...VARIANTS[0]!, vrdeModule: '' }];
}

for (const variant of variants()) {
  const dir = join(scratch, variant.file);
  const settings = {
    remote_display: variant.vrdeModule ? 'true' : 'false',
    vrde_module: variant.vrdeModule || 'VNC',
    vrde_port: '25900-25920',
    vrde_unique_port: 'true',
    vrde_require_instance_uuid_as_password: 'true',
    vrde_password_length: '20',
    wait_soft_reboot_seconds: '5',
  };
  const harness = live ? undefined : new Harness();
  afterAll(() => harness?.cleanup());
  const driver = harness
    ? harness.driver(settings)
    : makeDriver(new ExecaProcessRunner(), { ...settings, vboxmanage_cmd: live!, instances_path: join(dir, 'instances'), images_path: join(dir, 'images') });
  describeDriverContract(
    async () => driver,
    contractOptions(driver, {
      evidenceDir,
      scratchDir: join(dir, 'scratch'),
      label: variant.label,
      file: variant.file,
      ...(harness ? { harnessHome: harness.home } : {}),
    }),
  );
}
