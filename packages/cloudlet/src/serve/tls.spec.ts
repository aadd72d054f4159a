import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readServerTls } from '@virtplug/core';
import { setupFixture, type Fixture } from '../../test/helpers/fixture.js';
import { Cloudlet } from '../cloudlet.js';
import { settingsFrom } from '../config.js';
import { openSource } from '../synthesis/source.js';
import { downloadOverlay } from './download.js';
import { serveOverlays, type RunningServer } from './server.js';

const TOKEN = 'vp-cl-tls-token-0123456789';
const PKI_SCRIPT = new URL('../../../../tools/lab/pki.sh', import.meta.url).pathname;

/** `cloudlet serve` over HTTPS ([cloudlet] tls_*), with a throwaway CA from tools/lab/pki.sh. */
describe('serve over HTTPS', () => {
  let fx: Fixture;
  let pki: string;
  let ca: string;
  let srv: RunningServer;
  let bytes: Buffer;

  beforeAll(async () => {
    fx = await setupFixture('tls');
    bytes = readFileSync(fx.overlay.path);
    pki = join(fx.root, 'pki');
    execFileSync('bash', [PKI_SCRIPT, pki, '127.0.0.1']);
    ca = readFileSync(join(pki, 'ca.pem'), 'utf8');
    srv = await serveOverlays({ dir: fx.root, token: TOKEN, tls: readServerTls('cloudlet', join(pki, 'agent.pem'), join(pki, 'agent.key')) });
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.close();
  });

  it('serves to a client that trusts the CA: a verified download with identical bytes', async () => {
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const dest = join(fx.root, 'dl', 'copy.vpo');
    const r = await downloadOverlay(`${srv.url}/overlay.vpo`, dest, { token: TOKEN, ca });
    expect(r.bytes).toBe(bytes.length);
    expect(readFileSync(dest).equals(bytes)).toBe(true);
  });

  it('a client without the CA refuses the certificate and says which option to set', async () => {
    await expect(openSource(`${srv.url}/overlay.vpo`, { token: TOKEN })).rejects.toMatchObject({
      code: 'operation_failed',
      message: expect.stringMatching(/TLS failed \(.*\).*tls_ca_file/),
    });
  });

  it('plain HTTP to the HTTPS port gets no answer', async () => {
    await expect(openSource(`${srv.url.replace(/^https:/, 'http:')}/overlay.vpo`, { token: TOKEN, timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'operation_failed' });
  });

  it('the Cloudlet facade takes certificate, key and CA from its settings', async () => {
    const c = new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'facade'), ram_dir: '', tls_cert_file: join(pki, 'agent.pem'), tls_key_file: join(pki, 'agent.key'), tls_ca_file: join(pki, 'ca.pem') }));
    const s = await c.serve({ dir: fx.root, token: TOKEN });
    try {
      expect(s.url).toMatch(/^https:/);
      const h = await c.infoOverlay(`${s.url}/overlay.vpo`, { token: TOKEN });
      expect(h.manifest.overlay_sha256).toBe(fx.overlay.manifest.overlay_sha256);
    } finally {
      await s.close();
      await c.close();
    }
  });

  it('refuses half a TLS setting and a key others can read', () => {
    const only = (cert?: string, key?: string) => new Cloudlet(null, settingsFrom({ base_dir: join(fx.root, 'bad'), ram_dir: '', ...(cert ? { tls_cert_file: cert } : {}), ...(key ? { tls_key_file: key } : {}) })).serverTls();
    expect(() => only(join(pki, 'agent.pem'))).toThrow(/\[cloudlet\] tls_cert_file \/ tls_key_file.*only tls_cert_file.*both set/);
    const loose = join(fx.root, 'loose.key');
    execFileSync('cp', [join(pki, 'agent.key'), loose]);
    chmodSync(loose, 0o644);
    expect(() => only(join(pki, 'agent.pem'), loose)).toThrow(/\[cloudlet\] tls_key_file mode.*0644.*chmod 600/);
    rmSync(loose);
  });
});
