/// <reference lib="dom" />
/**
 * The dashboard in real headless Chromium on real data: `enginechain demo` drives a simulated
 * vehicle into a crash, an ingest node serves its data directory, and the page must let the
 * owner log in, open the trip and the crash, and verify the crash evidence in the browser; a
 * tampered copy must fail; an anonymous visitor must see only public data. Screenshots go to
 * test-artifacts/dashboard/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnginechain, type EnginechainProcess } from '../../hardware/src/demo/processes.js';
import { DASHBOARD_CSP } from '../../ingest/src/dashboard/index.js';
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
  readonly insurer: Login;
  readonly stop: () => Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'enginechain-dashboard-'));
let served: Served;
let browser: Browser;
let vin: string;
let evidenceFile: string;
const pages: WatchedPage[] = [];

/** `enginechain ingest` on the demo's node directory, as an operator would serve it. */
async function serve(): Promise<Served> {
  const logins = JSON.parse(readFileSync(join(dir, 'logins.json'), 'utf8')) as {
    owner: Login;
    insurer: Login;
  };
  const cli: EnginechainProcess = await startEnginechain(
    ['ingest', '--data', join(dir, 'node'), '--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0'],
    { logPath: join(dir, 'dashboard-ingest.log'), timeoutMs: 30_000 },
  );
  return {
    url: String(cli.announced.httpUrl),
    ...logins,
    stop: async () => void (await cli.stop()),
  };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

async function logIn(page: Page, who: Login): Promise<void> {
  await page.goto(`${served.url}/#/login`);
  await page.fill('input[name="username"]', who.username);
  await page.fill('input[name="password"]', who.password);
  await page.click('[data-testid="login-form"] button[type="submit"]');
  await page.waitForSelector('[data-testid="fleet"]');
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
    await logIn(page, served.owner);
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

  it('shows the owner the VIN file, every entry proved in the page against the signed checkpoint', async () => {
    const w = await openPage(browser, served.url);
    pages.push(w);
    const { page } = w;
    await logIn(page, served.owner);
    await go(page, `#/vehicles/${vin}`);
    await page.click('[data-testid="vin-file-link"]');
    await page.waitForSelector('[data-testid="vin-file"]');
    expect(await page.textContent('[data-testid="vin-file-checkpoint"]')).toContain(
      "signed by the node's checkpoint key",
    );
    const rows = await page.$$eval('[data-testid="vin-file"] tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')),
    );
    const kinds = rows.map((r) => r[1]);
    expect(kinds).toContain('registration');
    expect(kinds).toContain('trip');
    expect(kinds).toContain('crash');
    expect(kinds).toContain('grant');
    for (const r of rows)
      expect(r[4]).toMatch(/^included \(\d+ entr(y|ies)\)$|newer than the checkpoint/);
    await shot(page, '09-vin-file');
  });

  it('lets the insurer see the granted vehicle and its crash, but not manage grants', async () => {
    const w = await openPage(browser, served.url);
    pages.push(w);
    const { page } = w;
    await logIn(page, served.insurer);
    expect(await page.textContent('[data-testid="fleet"]')).toContain(vin);
    expect(await page.textContent('nav')).not.toContain('Grants');
    await page.click(`[data-testid="fleet"] a[href="#/vehicles/${vin}"]`);
    await page.waitForSelector('[data-testid="event-link-crash"]');
    await page.click('[data-testid="event-link-crash"]');
    await page.waitForSelector('figure.chart canvas');
    await page.click('[data-testid="verify"]');
    await page.waitForSelector('[data-testid="verdict-box"] [data-testid="verdict"]');
    expect(await page.textContent('[data-testid="verdict-box"] [data-testid="verdict"]')).toBe(
      'VERIFIED',
    );
    await shot(page, '10-insurer-crash-verified');
  });

  it('lets the owner grant the insurer access and revoke it, each on the log', async () => {
    const w = await openPage(browser, served.url);
    pages.push(w);
    const { page } = w;
    await logIn(page, served.owner);
    await go(page, '#/grants');
    const rows = () =>
      page.$$eval('[data-testid="grants"] tbody tr', (trs) =>
        trs.map((tr) => Array.from(tr.children, (td) => td.textContent ?? '')),
      );
    const before = await rows();
    expect(before.filter((r) => r[4] === 'active')).toHaveLength(1);
    await page.selectOption('[data-testid="grant-form"] select[name="business"]', served.insurer.username);
    await page.uncheck('[data-testid="grant-form"] input[value="traces"]');
    await page.fill('[data-testid="grant-form"] input[name="days"]', '7');
    await page.click('[data-testid="grant-form"] button[type="submit"]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="grants"] tbody tr').length === n, before.length + 1);
    const added = (await rows()).find((r) => !before.some((b) => b[5] === r[5]));
    expect(added?.slice(0, 3)).toEqual([vin, served.insurer.username, 'events, scores, trips']);
    expect(added?.[4]).toBe('active');
    expect(Number(added?.[5])).toBeGreaterThan(0);
    await shot(page, '11-grant-added');
    const revoke = await page.$$('[data-testid^="revoke-"]');
    await revoke.at(-1)?.click();
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid="grants"] tbody tr')).filter((tr) => tr.children[4]?.textContent === 'revoked').length === 1);
    expect((await rows()).filter((r) => r[4] === 'active')).toHaveLength(1);
    await shot(page, '12-grant-revoked');
  }); // prettier-ignore

  it('ran without console errors, CSP violations or requests off the node', () => {
    for (const w of pages) {
      expect(w.problems).toEqual([]);
      expect(w.foreignRequests).toEqual([]);
    }
  });
});
