import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { memoryAgent, removeTempDirs } from '../testing/in-memory.js';
import { agentClients, HttpAgentClient } from './client.js';
import { createAgentServer } from './server.js';
import { readCaFile as coreReadCaFile, readServerTls as coreReadServerTls } from '@virtplug/core';

const readServerTls = (cert: string | undefined, key: string | undefined) => coreReadServerTls('iohyp', cert, key);
const readCaFile = (ca: string | undefined) => coreReadCaFile('iohyp', ca);

const TOKEN = 'tls-test-token-0123456789';
const PKI_SCRIPT = new URL('../../../../tools/lab/pki.sh', import.meta.url).pathname;

describe('IOhyp agent over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vp-iohyp-tls-'));
  const pki = join(dir, 'pki');
  const agent = memoryAgent();
  const logs: string[] = [];
  let server: Server;
  let port: number;
  let ca: string;

  beforeAll(async () => {
    execFileSync('bash', [PKI_SCRIPT, pki, '127.0.0.1']);
    ca = readFileSync(join(pki, 'ca.pem'), 'utf8');
    const tls = readServerTls(join(pki, 'agent.pem'), join(pki, 'agent.key'))!;
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
    server = createAgentServer(agent.service, TOKEN, logger, tls) as Server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
    await removeTempDirs();
  });

  it('serves a client that trusts the CA, with the token checked as over HTTP', async () => {
    const status = await new HttpAgentClient('hyp1', `https://127.0.0.1:${port}`, TOKEN, 5000, { ca }).status();
    expect(status.exports).toEqual([]);
    await expect(new HttpAgentClient('hyp1', `https://127.0.0.1:${port}`, 'wrong-token-xxxxxxxx', 5000, { ca }).status()).rejects.toMatchObject({ code: 'hypervisor_unavailable' });
  });

  it('refuses an agent whose certificate is not from the configured CA, or names another address', async () => {
    const untrusted = new HttpAgentClient('hyp1', `https://127.0.0.1:${port}`, TOKEN, 5000);
    await expect(untrusted.status()).rejects.toMatchObject({ code: 'hypervisor_unavailable', message: expect.stringMatching(/TLS failed .*tls_ca_file/) });
    const wrongName = new HttpAgentClient('hyp1', `https://localhost:${port}`, TOKEN, 5000, { ca });
    await expect(wrongName.status()).rejects.toMatchObject({ code: 'hypervisor_unavailable', details: { tlsError: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
  });

  it('does not answer plain HTTP on the TLS port, and logs the refused handshake without the token', async () => {
    await expect(new HttpAgentClient('hyp1', `http://127.0.0.1:${port}`, TOKEN, 5000).status()).rejects.toMatchObject({ code: 'transient' });
    expect(logs.join('')).toContain('TLS handshake refused');
    expect(logs.join('')).not.toContain(TOKEN);
  });

  it('builds configured clients with the CA from tls_ca_file, and warns about plain HTTP off loopback', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const clients = agentClients(
      { agents: [{ name: 'hyp1', url: `https://127.0.0.1:${port}` }, { name: 'hyp2', url: 'http://10.88.0.9:8686' }], tlsCaFile: join(pki, 'ca.pem'), requestTimeoutMs: 5000 },
      TOKEN,
      { logger },
    );
    expect((await clients.get('hyp1')!.status()).exports).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/"agent":"hyp2".*in clear/);
  });

  it('refuses half or unsafe TLS settings with errors naming the option, value and what is expected', () => {
    expect(() => readServerTls(join(pki, 'agent.pem'), undefined)).toThrow(/tls_cert_file \/ tls_key_file.*only tls_cert_file.*both set/);
    const loose = join(dir, 'loose.key');
    writeFileSync(loose, readFileSync(join(pki, 'agent.key')));
    chmodSync(loose, 0o644);
    expect(() => readServerTls(join(pki, 'agent.pem'), loose)).toThrow(/tls_key_file mode.*0644.*chmod 600/);
    expect(() => readServerTls(join(pki, 'agent.key'), join(pki, 'agent.key'))).toThrow(/tls_cert_file.*a certificate/);
    expect(() => readCaFile(join(dir, 'missing.pem'))).toThrow(/tls_ca_file.*missing\.pem/);
    expect(readCaFile(undefined)).toBeUndefined();
  });
});
