// The arithmetic of a unit, end to end: Chromium against the web host and the real engine on the bundled
// LeNet-5 and its sample digit. Click a unit of an enlarged activation map (or type its row and column),
// the panel shows the numbers and its total equals the value on the map; axe finds nothing serious.
// Then any attribution method for the same digit, with its deletion and insertion areas.
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

async function openChannel(layer: string, channel: number): Promise<void> {
  // A dense layer (channel -1) is one strip of units.
  await page.locator(`#act-${layer}`).getByRole('button', { name: new RegExp(channel === -1 ? `^${layer}: \\d+ units` : `^${layer} channel ${channel}\\b`) }).click();
  await page.getByRole('dialog').waitFor();
}

describe.skipIf(NO_CHROMIUM !== null)('the arithmetic of a unit', () => {
  it('opens on a clicked conv unit, and its total equals the value on the map', async () => {
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('predictions').locator('li .label').first().textContent(), { timeout: 90_000 }).toBe('7');
    await openChannel('conv2', 3);
    const map = page.getByTestId('zoom-map');
    const box = (await map.boundingBox())!;
    // conv2 is 8x8: the unit in column 5, row 2.
    await map.click({ position: { x: (5.5 / 8) * box.width, y: (2.5 / 8) * box.height } });
    const panel = page.getByTestId('unit-panel');
    await panel.waitFor({ timeout: 30_000 });
    await expect.poll(() => panel.locator('h4').textContent()).toContain('conv2 (5, 2), channel 3');
    const shown = await page.getByTestId('unit-map-value').textContent();
    expect(await panel.getByTestId('unit-output').textContent()).toBe(shown);
    expect(Number(shown)).not.toBe(0);
    // 6 input channels of pool1: three shown as patch / kernel / products, the rest as sums.
    expect(await panel.getByRole('table').count()).toBe(9);
    expect(await panel.textContent()).toMatch(/tanh\(/);
  });

  it('is reachable from the keyboard: row and column typed in', async () => {
    await page.getByLabel('Column').fill('0');
    await page.getByLabel('Row').fill('7');
    await page.getByLabel('Row').press('Enter');
    const panel = page.getByTestId('unit-panel');
    await expect.poll(() => panel.locator('h4').textContent(), { timeout: 30_000 }).toContain('conv2 (0, 7), channel 3');
    expect(await panel.getByTestId('unit-output').textContent()).toBe(await page.getByTestId('unit-map-value').textContent());
  });

  it('has no serious or critical accessibility violations with the panel and the sandbox open', async () => {
    await page.getByText('Sandbox: a window sliding over an input').click();
    await expect.poll(() => page.getByTestId('sandbox-output').textContent()).toMatch(/= 5x5/);
    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations, null, 1)).toEqual([]);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
  });

  it('shows a pooling unit’s winner and a dense unit’s top inputs, each ending at the map’s value', async () => {
    for (const [layer, channel, x] of [['pool2', 0, 1], ['fc1', -1, 7]] as const) {
      await openChannel(layer, channel);
      const map = page.getByTestId('zoom-map');
      const box = (await map.boundingBox())!;
      const width = layer === 'pool2' ? 4 : 120;
      await map.click({ position: { x: ((x + 0.5) / width) * box.width, y: box.height / 2 } });
      const panel = page.getByTestId('unit-panel');
      await expect.poll(() => panel.locator('h4').textContent(), { timeout: 30_000 }).toContain(layer);
      expect(await panel.getByTestId('unit-output').textContent()).toBe(await page.getByTestId('unit-map-value').textContent());
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    }
  });

  it('computes any attribution method for the image on show, with its deletion and insertion areas', async () => {
    const panel = page.getByTestId('attribution-panel');
    await panel.getByLabel('Method').selectOption('scorecam');
    await panel.getByLabel('Layer').selectOption('conv1');
    await panel.getByRole('button', { name: 'Compute' }).click();
    await expect.poll(() => panel.getByRole('img', { name: 'The input with the Score-CAM map over it' }).count(), { timeout: 60_000 }).toBe(1);
    expect(await panel.locator('figcaption').textContent()).toMatch(/^Score-CAM at conv1, class 7, \d+ ms$/);
    const [, del, ins] = /deletion AUC (\d\.\d{3}) .* insertion AUC (\d\.\d{3})/.exec((await panel.getByTestId('faithfulness').textContent())!)!;
    for (const auc of [del, ins]) {
      expect(Number(auc)).toBeGreaterThanOrEqual(0);
      expect(Number(auc)).toBeLessThanOrEqual(1);
    }
    expect(await panel.getByTestId('faithfulness').textContent()).toContain('16 pixels a step');
    const violations = await seriousViolations(page);
    expect(violations, JSON.stringify(violations, null, 1)).toEqual([]);
  });

  it('raised no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
