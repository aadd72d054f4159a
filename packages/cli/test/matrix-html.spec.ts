import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { runCli } from './run-cli.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const artifacts = fileURLToPath(new URL('../../../artifacts/', import.meta.url));

/** The HTML matrix, rendered by a real browser (Debian's chromium), as a reader would see it. */
describe('virtplug matrix --format html in headless Chromium', () => {
  let browser: Browser;
  const out = join(mkdtempSync(join(tmpdir(), 'vp-matrix-')), 'm.html');

  beforeAll(async () => {
    const r = await runCli(['matrix', '--format', 'html', '--out', out]);
    expect(r.code).toBe(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the table, one column per driver, every feature row, and the evidence legend', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(out).href);

    expect(await page.title()).toBe('virtplug capability matrix');
    const drivers = await page.locator('#matrix thead th[data-driver]').evaluateAll((ths) => ths.map((t) => t.getAttribute('data-driver')));
    expect(drivers).toEqual(expect.arrayContaining(['libvirt', 'virtualbox']));
    expect(await page.locator('#matrix tbody tr[data-feature]').count()).toBeGreaterThanOrEqual(54);
    const launchCells = await page.locator('tr[data-feature="operation.launch"] td.cell').count();
    expect(launchCells).toBe(drivers.length);

    const legend = await page.locator('#legend').innerText();
    for (const mark of ['verified-live', 'verified-replay', 'declared']) expect(legend).toContain(mark);
    // Every cell carries one of the three marks, visibly.
    const marks = await page.locator('td.cell .ev').allInnerTexts();
    expect(new Set(marks)).toEqual(new Set(marks.filter((m) => ['verified-live', 'verified-replay', 'declared'].includes(m))));
    expect(await page.locator('td.cell .ev.verified-live').count()).toBeGreaterThan(0);

    // Self-contained: the page loads nothing but itself.
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'capability-matrix.png'), fullPage: true });
  }, 60_000);
});
