#!/usr/bin/env node
// Screenshots of the insight features (issue 14) for docs/screenshots/, on the bundled pretrained LeNet-5:
// a conv2 channel's top patches and visualisation, a kernel's channel dialog, the neighbours of a dropped
// digit, the map of MNIST's 10,000 test images, and an attribution map with its faithfulness. No training,
// so it takes about a minute.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { digit, drop, launchChromium, OUT, shot, shotOf, startServer } from './screenshot-support.mjs';

execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
mkdirSync(OUT, { recursive: true });
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-shots-'));
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-shots-cache-'));
const { url, child } = await startServer(runsDir, { CONVSCOPE_CACHE_DIR: cacheDir });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  await page.goto(url);
  await page.getByTestId('backend-name').waitFor();

  await page.keyboard.press('2');
  await page.getByTestId('predictions').locator('li').first().waitFor({ timeout: 120_000 });
  await page.locator('#act-conv2').getByTestId('activation-map').nth(3).click();
  await page.getByTestId('top-patches').getByRole('button').nth(8).waitFor({ timeout: 120_000 });
  await page.getByTestId('visualise').click();
  await page.getByRole('img', { name: /responds to most/ }).waitFor({ timeout: 300_000 });
  await shot(page, 'insight-top-patches');
  await page.keyboard.press('Escape');

  await page.keyboard.press('3');
  await page.getByTestId('kernel-pick').nth(2).click();
  await page.getByTestId('channel-dialog').getByTestId('top-patches').getByRole('button').nth(8).waitFor({ timeout: 120_000 });
  await shot(page, 'insight-kernel-channel');
  await page.keyboard.press('Escape');

  await drop(page, await digit(18), 'three.png');
  await page.keyboard.press('7');
  await page.getByTestId('neighbours').getByRole('listitem').nth(5).waitFor({ timeout: 300_000 });
  await page.locator('[data-testid=embedding-map][data-points="10000"]').waitFor({ timeout: 300_000 });
  await page.getByTestId('map-umap').check();
  await page.locator('[data-testid=embedding-map][data-method="umap"]').waitFor({ timeout: 300_000 });
  await shot(page, 'insight-neighbours-map');

  // The same digit's Integrated Gradients map (the most faithful on LeNet-5 by docs/results/attribution)
  // with its deletion and insertion areas.
  await page.keyboard.press('2');
  const panel = page.getByTestId('attribution-panel');
  await panel.getByLabel('Method').selectOption('integrated-gradients');
  await panel.getByRole('button', { name: 'Compute' }).click();
  await panel.getByTestId('faithfulness').filter({ hasText: 'insertion AUC' }).waitFor({ timeout: 120_000 });
  await shotOf(panel, 'attribution');
} finally {
  await browser.close();
  child.kill('SIGTERM');
  rmSync(runsDir, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
}
