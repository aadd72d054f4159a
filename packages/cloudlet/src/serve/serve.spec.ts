import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSource } from '../synthesis/source.js';
import { setupFixture, type Fixture } from '../../test/helpers/fixture.js';
import { downloadOverlay } from './download.js';
import { parseRange } from './range.js';
import { serveOverlays, type RunningServer } from './server.js';

const TOKEN = 'vp-cl-test-token-0123456789';
let fx: Fixture;
let srv: RunningServer;
let bytes: Buffer;

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${srv.url}${path}`, { headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  fx = await setupFixture('serve');
  bytes = readFileSync(fx.overlay.path);
  srv = await serveOverlays({ dir: fx.root, token: TOKEN });
});
afterAll(async () => {
  await srv?.close();
  await fx?.close();
});

describe('parseRange', () => {
  it('resolves single ranges and refuses unsatisfiable ones', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBeNull();
    expect(parseRange('bytes=5-1', 100)).toBeNull();
    expect(parseRange(undefined, 100)).toBe('all');
    expect(parseRange('bytes=0-1,5-6', 100)).toBe('all');
  });
});

describe('serve', () => {
  it('serves the whole file with a Bearer token and with ?token=', async () => {
    const a = await get('/overlay.vpo', { authorization: `Bearer ${TOKEN}` });
    expect(a.status).toBe(200);
    expect(a.body.equals(bytes)).toBe(true);
    expect(a.headers['accept-ranges']).toBe('bytes');
    const b = await get(`/overlay.vpo?token=${TOKEN}`);
    expect(b.body.equals(bytes)).toBe(true);
  });

  it('answers ranges with 206 and the exact bytes, and 416 past the end', async () => {
    const r = await get('/overlay.vpo', { authorization: `Bearer ${TOKEN}`, range: 'bytes=100-1123' });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 100-1123/${bytes.length}`);
    expect(r.body.equals(bytes.subarray(100, 1124))).toBe(true);
    const tail = await get('/overlay.vpo', { authorization: `Bearer ${TOKEN}`, range: 'bytes=-7' });
    expect(tail.body.equals(bytes.subarray(bytes.length - 7))).toBe(true);
    const bad = await get('/overlay.vpo', { authorization: `Bearer ${TOKEN}`, range: `bytes=${bytes.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${bytes.length}`);
  });

  it('ignores a Range whose If-Range no longer matches (the file changed)', async () => {
    const r = await get('/overlay.vpo', { authorization: `Bearer ${TOKEN}`, range: 'bytes=0-9', 'if-range': '"stale"' });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(bytes.length);
  });

  it('refuses a missing or wrong token with 401 and serves no bytes', async () => {
    for (const h of [{}, { authorization: 'Bearer wrong-token-wrong-token' }] as Array<Record<string, string>>) {
      const r = await get('/overlay.vpo', h);
      expect(r.status).toBe(401);
      expect(r.body.includes(bytes.subarray(0, 8))).toBe(false);
    }
    expect((await get('/overlay.vpo?token=nope')).status).toBe(401);
  });

  it('refuses traversal and names outside the served directory', async () => {
    for (const p of ['/..%2Foverlay.vpo', '/%2e%2e/etc/passwd', '/custom/custom.ram', '/.hidden']) {
      expect((await get(p, { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
    }
  });

  it('refuses to start with a short token', async () => {
    await expect(serveOverlays({ dir: fx.root, token: 'short' })).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('download', () => {
  it('downloads, verifies and renames into place', async () => {
    const dest = join(fx.root, 'dl-1.vpo');
    const r = await downloadOverlay(`${srv.url}/overlay.vpo`, dest, { token: TOKEN });
    expect(r.resumedFrom).toBe(0);
    expect(readFileSync(dest).equals(bytes)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('resumes an interrupted download with Range and ends with identical bytes', async () => {
    const dest = join(fx.root, 'dl-2.vpo');
    const ac = new AbortController();
    await expect(
      downloadOverlay(`${srv.url}/overlay.vpo`, dest, {
        token: TOKEN,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.done > bytes.length / 3) ac.abort();
        },
      }),
    ).rejects.toThrow();
    const partial = statSync(`${dest}.part`).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(bytes.length);
    const r = await downloadOverlay(`${srv.url}/overlay.vpo`, dest, { token: TOKEN });
    expect(r.resumedFrom).toBe(partial);
    expect(readFileSync(dest).equals(bytes)).toBe(true);
  });

  it('deletes a download that fails verification', async () => {
    const bad = Buffer.from(bytes);
    bad[bad.length - 100]! ^= 1;
    writeFileSync(join(fx.root, 'bad.vpo'), bad);
    const dest = join(fx.root, 'dl-3.vpo');
    await expect(downloadOverlay(`${srv.url}/bad.vpo`, dest, { token: TOKEN })).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('reports a wrong token as a token problem', async () => {
    await expect(downloadOverlay(`${srv.url}/overlay.vpo`, join(fx.root, 'dl-4.vpo'), { token: 'nope' })).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/token/) });
  });
});

describe('info over HTTP', () => {
  it('reads only the header with Range requests', async () => {
    const { readOverlayHeaderFromUrl } = await import('../overlay/verify.js');
    const served: string[] = [];
    const s2 = await serveOverlays({ dir: fx.root, token: TOKEN, onRequest: (r) => served.push(`${r.status}:${r.bytes}`) });
    try {
      const h = await readOverlayHeaderFromUrl(`${s2.url}/overlay.vpo`, { token: TOKEN });
      expect(h.manifest.base_id).toBe(fx.base.id);
      expect(h.fileBytes).toBe(bytes.length);
      expect(served.every((x) => x.startsWith('206:'))).toBe(true);
      expect(served.reduce((n, x) => n + Number(x.split(':')[1]), 0)).toBeLessThan(bytes.length / 4);
    } finally {
      await s2.close();
    }
  });
});

describe('synthesis source over HTTP', () => {
  it('rebuilds the same RAM from a URL stream as from the file', async () => {
    const src = await openSource(`${srv.url}/overlay.vpo?token=${TOKEN}`);
    expect(src.bytes).toBe(bytes.length);
    expect(src.describe).not.toContain(TOKEN);
    const work = await fx.works.create('http');
    const { rebuildFromStream } = await import('../synthesis/pipeline.js');
    const { MACHINE } = await import('../../test/helpers/images.js');
    const r = await rebuildFromStream({ stream: src.stream, sourceBytes: src.bytes, store: fx.store, pool: fx.pool, qemu: fx.qemu, work, host: MACHINE });
    expect(readFileSync(r.ramPath).equals(fx.custom.ram)).toBe(true);
    await work.remove();
  });
});
