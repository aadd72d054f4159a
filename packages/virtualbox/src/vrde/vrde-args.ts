import type { RdpSection } from '../config.js';
import type { VrdeProtocol } from './extpack.js';

export interface VrdeSetup {
  port: number;
  protocol: VrdeProtocol;
  password?: string;
  rdp: RdpSection;
}

/**
 * `modifyvm` arguments that turn the VRDE server on for one instance: the port, the VNC password
 * (VNC pack property `VNCPassword`), and for RDP the `[rdp]` security options as VRDE properties.
 */
export function vrdeModifyArgs(setup: VrdeSetup): string[] {
  const args = ['--vrde', 'on', '--vrdeport', String(setup.port)];
  const prop = (p: string) => args.push('--vrdeproperty', p);
  if (setup.protocol === 'vnc' && setup.password !== undefined) prop(`VNCPassword=${setup.password}`);
  if (setup.protocol === 'rdp' && setup.rdp.encrypted_rdp) {
    prop(`Security/Method=${setup.rdp.security_method}`);
    if (setup.rdp.security_method !== 'RDP') {
      if (setup.rdp.server_certificate) prop(`Security/ServerCertificate=${setup.rdp.server_certificate}`);
      if (setup.rdp.server_private_key) prop(`Security/ServerPrivateKey=${setup.rdp.server_private_key}`);
      if (setup.rdp.server_ca) prop(`Security/CACertificate=${setup.rdp.server_ca}`);
    }
  }
  return args;
}

export const VRDE_OFF_ARGS: readonly string[] = ['--vrde', 'off'];
