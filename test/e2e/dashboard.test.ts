/// <reference lib="dom" />
/**
 * The dashboard in real headless Chromium on real data: `enginechain demo` drives a simulated
 * vehicle into a crash, an ingest node serves its data directory, and the page must let the
 * owner log in, open the trip and the crash, and verify the crash evidence in the browser; a
 * tampered copy must fail; an anonymous visitor must see only public data. Screenshots go to
 * test-artifacts/dashboard/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnginechain, type EnginechainProcess } from '../../hardware/src/demo/processes.js';
import { DASHBOARD_CSP, dashboardPlugin } from '../../ingest/src/dashboard/index.js';
import { IngestNode } from '../../ingest/src/node/ingest-node.js';
import {
  chromiumAvailable,
  launchChromium,
  openPage,
  type WatchedPage,
} from '../support/browser.js';
import { repoRoot, runCli } from '../support/run-cli.js';

const artifacts = join(repoRoot, 'test-artifacts', 'dashboard');

interface Login {
  readonly username: string;
  readonly password: string;
}

interface Served {
  readonly url: string;
  readonly owner: Login;
  readonly stop: () => Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'enginechain-dashboard-'));
let served: Served;
let browser: Browser;
let vin: string;
let evidenceFile: string;
const pages: WatchedPage[] = [];

/**
 * `enginechain ingest` on the demo's node directory. While the CLI does not register the
 * dashboard yet, or the demo writes no logins, the same node is started in this process with
 * the dashboard plugin, and the demo VIN given an owner here (see dashboard-requests.md).
 */
async function serve(): Promise<Served> {
  const loginsFile = join(dir, 'logins.json');
  const logins = existsSync(loginsFile)
    ? (JSON.parse(readFileSync(loginsFile, 'utf8')) as { owner: Login })
    : undefined;
  const cli: EnginechainProcess = await startEnginechain(
    ['ingest', '--data', join(dir, 'node'), '--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0'],
    { logPath: join(dir, 'dashboard-ingest.log'), timeoutMs: 30_000 },
  );
  const url = String(cli.announced.httpUrl);
  const page = await fetch(`${url}/`);
  if (logins && page.ok && page.headers.get('content-type')?.startsWith('text/html'))
    return { url, owner: logins.owner, stop: async () => void (await cli.stop()) };
  await cli.stop();

  console.warn(
    `dashboard test: ${page.ok ? '' : '`enginechain ingest` does not serve the dashboard yet; '}` +
      `${logins ? '' : 'the demo wrote no logins.json; '}starting the node in-process instead`,
  );
  const owner = logins?.owner ?? { username: 'owner@demo.fleet', password: 'demo owner password' };
  if (!logins) {
    const db = new Database(join(dir, 'node', 'node.db'));
    db.prepare('UPDATE devices SET owner = ? WHERE vin = ?').run(owner.username, vin);
    db.close();
  }
  const node = await IngestNode.start({
    dataDir: join(dir, 'node'),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    verifierThreads: 1,
    logger: pino({ level: 'silent' }),
    httpPlugins: [{ plugin: dashboardPlugin }],
  });
  if (!logins)
    await node.access.createUser({ ...owner, kind: 'registered', displayName: 'Demo owner' });
  return { url: node.httpUrl, owner, stop: () => node.stop() };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Navigates inside the single page and waits until the view has rendered. */
async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
  await page.waitForSelector(`main[aria-busy="false"][data-route="${hash.slice(1)}"]`);
}

describe.runIf(chromiumAvailable)('dashboard in headless Chromium', () => {
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    const started = Date.now();
    const [demo, launched] = await Promise.all([
      runCli(['demo', '--json', '--dir', dir, '--crash-at', '45'], { timeoutMs: 90_000 }),
      launchChromium(),
    ]);
    browser = launched;
    expect(demo.code, demo.stderr).toBe(0);
    const summary = JSON.parse(demo.stdout.trim().split('\n').at(-1) as string) as {
      vin: string;
      evidence: { file: string; verified: boolean };
    };
    expect(summary.evidence.verified).toBe(true);
    vin = summary.vin;
    evidenceFile = summary.evidence.file;
    const t = Date.now();
    served = await serve();
    console.warn(`dashboard test: demo and Chromium ${t - started} ms, node ${Date.now() - t} ms`);
  }, 150_000);

  afterAll(async () => {
    const t0 = Date.now();
    for (const w of pages) await w.context.close();
    const t1 = Date.now();
    await browser?.close();
    const t2 = Date.now();
    await served?.stop();
    console.warn(
      `dashboard test: contexts ${t1 - t0} ms, browser ${t2 - t1} ms, node ${Date.now() - t2} ms`,
    );
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${served.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toBe(DASHBOARD_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    const app = await fetch(`${served.url}/app.js`);
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${served.url}/build.json`)).status).toBe(404);
  });

  it('shows an anonymous visitor public data only', async () => {
    const w = await openPage(browser, served.url);
    pages.push(w);
    await w.page.goto(`${served.url}/`);
    await w.page.waitForSelector('[data-testid="public-summary"]');
    const text = await w.page.textContent('main');
    expect(text).toMatch(/1 vehicles, 1 devices, \d+ log entries/);
    expect(text).not.toContain(vin);
    await shot(w.page, '01-anonymous');
    await go(w.page, `#/vehicles/${vin}`);
    expect(await w.page.isVisible('[data-testid="login-form"]')).toBe(true);
    expect(await w.page.textContent('main')).not.toContain('crash');
    const apiFromPage = await w.page.evaluate(async () => (await fetch('/v1/vehicles')).status);
    expect(apiFromPage).toBe(401);
    await go(w.page, '#/node');
    expect(await w.page.textContent('[data-testid="node-status"]')).toContain('Log size');
    await shot(w.page, '02-node-status');
  });

  it('verifies a local evidence file and refuses a tampered copy', async () => {
    const w = await openPage(browser, served.url);
    pages.push(w);
    await w.page.goto(`${served.url}/#/verify`);
    await w.page.waitForSelector('[data-testid="evidence-file"]');
    const real = readFileSync(evidenceFile);
    await w.page.setInputFiles('[data-testid="evidence-file"]', {
      name: 'evidence.cbor',
      mimeType: 'application/cbor',
      buffer: real,
    });
    const box = '[data-testid="file-verdict-box"]';
    await w.page.waitForSelector(`${box} [data-testid="verdict"]`);
    expect(await w.page.textContent(`${box} [data-testid="verdict"]`)).toBe('VERIFIED');
    expect(await w.page.textContent(box)).toContain(vin);
    await shot(w.page, '03-local-file-verified');

    // One flipped bit in the middle of the signed payload (a sample, a proof, a signature).
    const tampered = Buffer.from(real);
    const at = Math.floor(tampered.length / 2);
    tampered[at] = (tampered[at] as number) ^ 0x01;
    writeFileSync(join(artifacts, 'tampered-evidence.cbor'), tampered);
    await w.page.setInputFiles('[data-testid="evidence-file"]', {
      name: 'tampered.cbor',
      mimeType: 'application/cbor',
      buffer: tampered,
    });
    await w.page.waitForFunction(
      (sel) => document.querySelector(sel)?.textContent === 'NOT VERIFIED',
      `${box} [data-testid="verdict"]`,
    );
    expect(await w.page.textContent(`${box} [data-testid="verdict-reason"]`)).toMatch(
      /^(bad-signature|malformed): /,
    );
    await shot(w.page, '04-tampered-file-refused');
  });

  it('lets the owner open the trip and the crash, and verify the crash evidence', async () => {
    const w = await openPage(browser, served.url);
    pages.push(w);
    const { page } = w;
    await page.goto(`${served.url}/#/login`);
    await page.fill('input[name="username"]', served.owner.username);
    await page.fill('input[name="password"]', served.owner.password);
    await page.click('[data-testid="login-form"] button[type="submit"]');
    await page.waitForSelector('[data-testid="fleet"]');
    expect(await page.textContent('[data-testid="fleet"]')).toContain(vin);
    await shot(page, '05-fleet');

    await page.click(`[data-testid="fleet"] a[href="#/vehicles/${vin}"]`);
    await page.waitForSelector('[data-testid="trips"]');
    await page.waitForSelector('[data-testid="event-link-crash"]');
    await shot(page, '06-vehicle');

    await page.click('[data-testid="trip-link"]');
    await page.waitForSelector('figure.chart canvas');
    const charts = await page.$$eval('figure.chart', (f) =>
      f.map((x) => x.getAttribute('data-signal')),
    );
    expect(charts).toContain('Vehicle.Speed');
    expect(charts).toContain('Vehicle.Powertrain.CombustionEngine.Speed');
    await shot(page, '07-trip');

    await page.goBack();
    await page.waitForSelector('[data-testid="event-link-crash"]');
    await page.click('[data-testid="event-link-crash"]');
    await page.waitForSelector('[data-testid="verify"]');
    await page.waitForSelector('figure.chart canvas');
    await page.click('[data-testid="verify"]');
    await page.waitForSelector('[data-testid="verdict-box"] [data-testid="verdict"]');
    expect(await page.textContent('[data-testid="verdict-box"] [data-testid="verdict"]')).toBe(
      'VERIFIED',
    );
    expect(await page.textContent('[data-testid="verdict-box"]')).toContain(
      "Signed by the node's checkpoint key",
    );
    await shot(page, '08-crash-verified');
  });

  it('ran without console errors, CSP violations or requests off the node', () => {
    for (const w of pages) {
      expect(w.problems).toEqual([]);
      expect(w.foreignRequests).toEqual([]);
    }
  });
});
