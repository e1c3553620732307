#!/usr/bin/env node
// Screenshots of every view for docs/screenshots/: builds the renderer, starts the web host with the real
// engine, trains two small LeNet-5 runs on MNIST (ReLU and tanh), drops a digit, and photographs each
// view in Debian's Chromium (light theme, plus the architecture in dark). Takes about two minutes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { digit, drop, launchChromium, OUT, shot, shotOf, startServer } from './screenshot-support.mjs';

async function train(page, { activation, limit, epochs }) {
  await page.keyboard.press('1');
  await page.locator('#opt-activation').selectOption(activation);
  await page.keyboard.press('5');
  await page.getByTestId('train-limit').fill(String(limit));
  await page.getByTestId('test-limit').fill('1000');
  await page.getByLabel('Epochs').fill(String(epochs));
  await page.locator('details', { hasText: 'Recording' }).evaluate((d) => (d.open = true));
  await page.getByTestId('snapshot-every').fill('8');
  await page.getByTestId('stats-every').fill('8');
  const before = await page.getByTestId('run-dir').textContent().catch(() => null);
  await page.getByTestId('start-training').click();
  await page.waitForFunction(
    (before) => document.querySelector('[data-testid="run-dir"]')?.textContent !== before && document.querySelector('[data-testid="run-state"]')?.textContent === 'finished',
    before,
    { timeout: 600_000 },
  );
}

execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
mkdirSync(OUT, { recursive: true });
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-shots-'));
const { url, child } = await startServer(runsDir);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  await page.goto(url);
  await page.getByTestId('backend-name').waitFor();

  await train(page, { activation: 'tanh', limit: 2048, epochs: 2 });
  await train(page, { activation: 'relu', limit: 4096, epochs: 3 });
  await shot(page, 'training');

  await page.keyboard.press('3');
  await page.getByTestId('kernel-grid').locator('canvas').first().waitFor();
  await page.getByTestId('timeline-slider').fill('4');
  await page.getByTestId('kernel-label').filter({ hasText: 'snapshot 5' }).waitFor();
  await shot(page, 'kernels');

  await page.keyboard.press('4');
  await page.getByTestId('dead-relu').locator('canvas').first().waitFor();
  await shot(page, 'activation-health');
  await page.getByTestId('distribution-bands').locator('svg').waitFor();
  await page.getByLabel('Tensor').selectOption('activations');
  await shotOf(page.getByTestId('distributions'), 'distributions');

  // The trained ReLU run's view of a test digit, with Grad-CAM.
  await page.keyboard.press('2');
  await drop(page, await digit(0), 'seven.png');
  await page.getByTestId('predictions').locator('li').first().waitFor();
  await page.getByLabel('Grad-CAM').check();
  await page.waitForTimeout(1500);
  await shot(page, 'activations');

  // The arithmetic of one conv2 unit of that digit, in its first channel that is not dead for it.
  await page.locator('#act-conv2').getByRole('button', { name: /^conv2 channel \d+: enlarge$/ }).first().click();
  const map = page.getByTestId('zoom-map');
  const box = await map.boundingBox();
  await map.click({ position: { x: (5.5 / 8) * box.width, y: (5.5 / 8) * box.height } });
  await page.getByTestId('unit-panel').waitFor();
  await shotOf(page.getByRole('dialog'), 'unit-arithmetic');
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  await page.keyboard.press('6');
  for (const box of await page.getByTestId('compare').locator('ul.runs input[type=checkbox]').all()) await box.check();
  await page.getByTestId('compare-chart').waitFor();
  await page.getByRole('button', { name: 'Evaluate' }).click();
  await page.getByRole('table', { name: /Confusion matrix/ }).waitFor({ timeout: 120_000 });
  // Open the largest mistake's examples (the biggest off-diagonal cell).
  const cells = await page.getByRole('button', { name: /images of .* predicted as .*; open them/ }).all();
  let worst = null;
  for (const c of cells) {
    const [, n, truth, predicted] = /^(\d+) images of (.+) predicted as (.+); open them$/.exec(await c.getAttribute('aria-label'));
    if (truth !== predicted && (!worst || Number(n) > worst.n)) worst = { n: Number(n), c };
  }
  if (worst) {
    await worst.c.click();
    await page.getByTestId('cell-examples').locator('canvas').first().waitFor();
  }
  await shot(page, 'compare');

  await page.keyboard.press('1');
  await page.getByTestId('model-select').selectOption('alexnet');
  await page.getByTestId('param-count').filter({ hasText: '60,965,224' }).waitFor();
  await shot(page, 'architecture-alexnet');

  const dark = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  await dark.goto(url);
  await dark.getByTestId('backend-name').waitFor();
  await drop(dark, await digit(0), 'seven.png');
  await dark.getByTestId('predictions').locator('li').first().waitFor();
  await dark.keyboard.press('1');
  await dark.locator('[data-testid=arch-diagram] image').first().waitFor();
  await shot(dark, 'architecture-lenet5-dark');
} finally {
  await browser.close();
  child.kill('SIGTERM');
  rmSync(runsDir, { recursive: true, force: true });
}
