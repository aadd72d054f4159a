export interface Flavor {
  name: string;
  memoryMb: number;
  vcpus: number;
  rootGb: number;
  ephemeralGb?: number;
  /** Nova flavor extra specs, e.g. `io:enabled=1` for I/O-hypervisor routing. */
  extraSpecs?: Record<string, string>;
}

export function flavorFlag(flavor: Flavor | undefined, key: string): boolean {
  const v = flavor?.extraSpecs?.[key];
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}
