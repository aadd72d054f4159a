import type { ExtPack } from '../vboxmanage/parse/extpacks.js';

export type VrdeProtocol = 'vnc' | 'rdp';

/** Which console a `vrde_module` name stands for, before asking VirtualBox: "VNC" → vnc, else RDP. */
export function protocolForModule(vrdeModule: string): VrdeProtocol {
  return /vnc/i.test(vrdeModule) ? 'vnc' : 'rdp';
}

function protocolOfPack(pack: ExtPack, fallback: VrdeProtocol): VrdeProtocol {
  if (pack.vrdeModule) return /vnc/i.test(pack.vrdeModule) ? 'vnc' : 'rdp';
  return fallback;
}

export interface ExtPackChoice {
  pack: ExtPack;
  protocol: VrdeProtocol;
}

/**
 * Finds the installed pack for `vrde_module`: by name, case-insensitively; else, because Oracle renamed
 * its pack ("Oracle VM VirtualBox Extension Pack" → "Oracle VirtualBox Extension Pack"), by the VRDE
 * module it provides (VBoxVRDP for RDP, VBoxVNC for VNC). Unusable packs are never chosen.
 */
export function selectExtPack(packs: ExtPack[], vrdeModule: string): ExtPackChoice | undefined {
  const wanted = protocolForModule(vrdeModule);
  const usable = packs.filter((p) => p.usable);
  const byName = usable.find((p) => p.name.toLowerCase() === vrdeModule.trim().toLowerCase());
  if (byName) return { pack: byName, protocol: protocolOfPack(byName, wanted) };
  const moduleName = wanted === 'vnc' ? /^VBoxVNC$/i : /^VBoxVRDP$/i;
  const byModule = usable.find((p) => p.vrdeModule !== undefined && moduleName.test(p.vrdeModule));
  return byModule ? { pack: byModule, protocol: wanted } : undefined;
}
