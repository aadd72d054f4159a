import { readSection, type SectionSpec, type VirtplugConfig } from '@virtplug/core';
import { CLOUDLET_SECTION } from '@virtplug/cloudlet';

/**
 * Config sections owned by packages that are not drivers (drivers declare theirs in their module).
 * The CLI validates them up front and documents them with the rest.
 */
export const PACKAGE_SECTIONS: ReadonlyArray<{ section: string; owner: string; spec: SectionSpec }> = [
  { section: 'cloudlet', owner: 'the `@virtplug/cloudlet` package', spec: CLOUDLET_SECTION },
];

export function validatePackageSections(config: VirtplugConfig): void {
  for (const { section, spec } of PACKAGE_SECTIONS) if (config.sections[section]) readSection(config, section, spec);
}
