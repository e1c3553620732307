// Distributions over training, end to end: Chromium against the web host and the real engine. A LeNet-5
// run started in the Training view has its distributions drawn in the Activation health view as it trains.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { NO_CHROMIUM, launchBrowser, seriousViolations } from './support/browser';
import { startServer, type Server } from './support/server';

let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  server = await startServer();
  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The "N steps" count the panel shows. */
async function stepsShown(): Promise<number> {
  const text = (await page.getByTestId('distributions').locator('.controls .small').textContent({ timeout: 1000 }).catch(() => null)) ?? '';
  return Number(/^(\d+) steps/.exec(text)?.[1] ?? 0);
}

describe.skipIf(NO_CHROMIUM !== null)('distributions over training', () => {
  it('draws a live run’s distributions while it trains', async () => {
    await expect.poll(() => page.getByTestId('backend-name').textContent(), { timeout: 60_000 }).toMatch(/\w/);
    await page.keyboard.press('5');
    await page.getByTestId('train-limit').fill('1024');
    await page.getByTestId('test-limit').fill('200');
    // More epochs than the test can see end: the run is stopped below, and a faster engine must not finish it first.
    await page.getByLabel('Epochs').fill('2000');
    await page.getByTestId('start-training').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('running');
    await page.keyboard.press('4');
    const bands = page.getByTestId('distribution-bands');
    await bands.locator('svg').waitFor({ timeout: 60_000 });
    const first = await stepsShown();
    expect(first).toBeGreaterThanOrEqual(1);
    // More records arrive while the run goes on, and the panel follows.
    await expect.poll(stepsShown, { timeout: 120_000 }).toBeGreaterThan(first);
    expect(await page.getByTestId('run-state').textContent()).toBe('running');
    await expect.poll(() => bands.locator('path').count()).toBe(5);
    await page.getByLabel('Tensor').selectOption('gradients');
    await expect.poll(() => bands.locator('svg').getAttribute('aria-label')).toMatch(/^conv1 gradients: percentile bands/);
    await expect.poll(() => page.getByTestId('distribution-overlay').locator('svg path').count()).toBeGreaterThan(0);
    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations, null, 1)).toEqual([]);
    await page.keyboard.press('5');
    await page.getByTestId('stop').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('stopped');
  });

  it('raised no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
