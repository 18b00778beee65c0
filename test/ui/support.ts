/**
 * Browser tests of the dashboard: Debian's Chromium driven by playwright-core, against the app on
 * the local host. Screenshots of each page go to test-results/screenshots (kept by CI as artifacts).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { AppUnderTest } from '../support/appHost';

export const SCREENSHOTS = path.resolve('test-results', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** The dashboard's address on the app, as `blc up` prints it (with the key) or without a key. */
export function dashboardUrl(
  app: AppUnderTest,
  options: { key?: string | null; hash?: string } = {},
): string {
  const key = options.key === undefined ? String(app.host.keys.functionKeys.default) : options.key;
  const query = key === null ? '' : `?code=${encodeURIComponent(key)}`;
  return `${app.host.url}/api/dashboard${query}${options.hash ?? ''}`;
}

/**
 * A fresh tab (own sessionStorage) on the dashboard. Any error the page logs fails the test that
 * opened it: check with `errorsOf(page)`.
 */
export async function openDashboard(
  browser: Browser,
  app: AppUnderTest,
  options: { key?: string | null; hash?: string } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    // A 401 or 409 the page handles shows in the console as a failed resource; that is not a bug.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) errors.push(msg.text());
  });
  pageErrors.set(page, errors);
  const missing: string[] = [];
  page.on('response', (res) => {
    if (res.status() === 404) missing.push(res.url());
  });
  notFound.set(page, missing);
  await page.goto(dashboardUrl(app, options));
  return page;
}

const notFound = new WeakMap<Page, string[]>();
/** Every URL the page asked for that was not found (the favicon included). */
export function notFoundOf(page: Page): string[] {
  return notFound.get(page) ?? [];
}

/** Elements matching `selector` whose content is wider than their box (cut off or scrolling). */
export function overflowing(page: Page, selector: string): Promise<string[]> {
  return page
    .locator(selector)
    .evaluateAll((els) =>
      els
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map(
          (e) =>
            `${e.className}: ${e.scrollWidth} > ${e.clientWidth} (${(e.textContent ?? '').slice(0, 40)})`,
        ),
    );
}

/** Status badges that take more than one line (their text wrapped). */
export function wrappedBadges(page: Page): Promise<string[]> {
  type Style = { lineHeight: string; fontSize: string };
  return page.locator('.badge').evaluateAll((els) =>
    els
      .filter((e) => {
        const style = (globalThis as unknown as { getComputedStyle(e: unknown): Style }).getComputedStyle(e);
        const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.4;
        return e.getClientRects().length > 1 || e.getBoundingClientRect().height > lineHeight * 1.6;
      })
      .map((e) => e.textContent ?? ''),
  );
}

const pageErrors = new WeakMap<Page, string[]>();
export function errorsOf(page: Page): string[] {
  return pageErrors.get(page) ?? [];
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Polls `read` until `accept` holds (for effects that arrive through the app, not the page). */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect.fail(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
}

/** expect.poll with room for the page's live refresh (every 2 s) and a busy machine. */
export function poll<T>(read: () => Promise<T> | T): ReturnType<typeof expect.poll<T>> {
  return expect.poll(read, { timeout: 15_000, interval: 100 });
}
