/**
 * A handoff receiver in its own process (for the two-host lab it runs inside host B's network
 * namespace, driving B's libvirtd). argv: statePath baseDir uri host port basePackage tokenFile ramDir
 * [tlsCertFile tlsKeyFile] (then it serves HTTPS only). Prints {"url": ...} once listening; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { hasGuestAgent, hasMemoryImages, loadDriver } from '@virtplug/core';
import { Cloudlet } from '../../src/cloudlet.js';
import { settingsFrom } from '../../src/config.js';

const [statePath, baseDir, uri, host, port, pkg, tokenFile, ramDir, tlsCert, tlsKey] = process.argv.slice(2);
const driver = await loadDriver({
  computeDriver: 'libvirt',
  statePath: statePath!,
  logLevel: 'silent',
  libvirt: { connection_uri: uri!, vms_mode: 'shared', event_poll_interval: 0, shutdown_timeout: 5 },
});
if (!hasMemoryImages(driver) || !hasGuestAgent(driver)) throw new Error('libvirt driver without memoryImages');
const cloudlet = new Cloudlet(driver, settingsFrom({ base_dir: baseDir!, ram_dir: ramDir!, ...(tlsCert && tlsKey ? { tls_cert_file: tlsCert, tls_key_file: tlsKey } : {}) }));
if ((await cloudlet.listBases()).length === 0) await cloudlet.importBase(pkg!);
const rcv = await cloudlet.handoffReceiver({ token: readFileSync(tokenFile!, 'utf8').trim(), host: host!, port: Number(port) });
process.stdout.write(JSON.stringify({ url: rcv.url }) + '\n');
await new Promise<void>((ok) => process.once('SIGTERM', () => ok()));
await rcv.close();
await cloudlet.close();
await driver.close();
