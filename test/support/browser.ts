/**
 * Headless Chromium for dashboard tests: Debian's chromium package driven by playwright-core
 * (no browser download). Console errors and CSP violations are collected so a test can assert
 * the page ran clean.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether a Chromium binary is there; tests say why they skip when it is not. */
export const chromiumAvailable = existsSync(CHROMIUM_PATH);

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, page errors and requests that failed, in order. */
  readonly problems: string[];
  /** Requests to any origin other than `allowedOrigin` (the page must stay on the node). */
  readonly foreignRequests: string[];
}

/** A fresh context (own cookies) and page that records what went wrong. */
export async function openPage(browser: Browser, allowedOrigin: string): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const foreignRequests: string[] = [];
  page.on('console', (m) => {
    // HTTP refusals (401 for an anonymous /v1/me, say) are the API's answers, which tests
    // check where they matter; everything else logged as an error is a problem.
    if (
      m.type() === 'error' &&
      !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())
    )
      problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(allowedOrigin) && !url.startsWith('data:') && !url.startsWith('blob:'))
      foreignRequests.push(url);
  });
  return { context, page, problems, foreignRequests };
}
