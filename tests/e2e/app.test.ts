// The window a user lives in, end to end: Debian's Chromium against the web host and the real engine.
// Drops real PNG and JPEG files, trains LeNet-5 on 512 MNIST images, stops a run, opens it again,
// scrubs its kernel timeline, exports the architecture, and checks every view with axe-core.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NO_CHROMIUM, launchBrowser, seriousViolations } from './support/browser';
import { mnistDigit } from './support/images';
import { dropFile, switchView } from './support/page';
import { delayReplies, type SlowReplies } from './support/slow-replies';
import { startServer, type Server } from './support/server';

const VIEWS = [
  ['1', 'architecture', 'arch-diagram'],
  ['2', 'activations', 'activations'],
  ['3', 'kernels', 'kernel-grid'],
  ['4', 'health', 'dead-relu'],
  ['5', 'training', 'training'],
  ['6', 'compare', 'compare'],
] as const;

let server: Server;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const slowReplies: SlowReplies = { method: null, delayMs: 3000 };


beforeAll(async () => {
  if (NO_CHROMIUM) return;
  execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  await delayReplies(page, slowReplies);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(server.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Kernel snapshots kept by the one run in the server's runs folder whose status is `state`. */
function snapshotsOfRun(state: string): number {
  const dirs = readdirSync(server.runsDir).map((d) => path.join(server.runsDir, d));
  const dir = dirs.find((d) => existsSync(path.join(d, 'status.json')) && (JSON.parse(readFileSync(path.join(d, 'status.json'), 'utf8')) as { state: string }).state === state);
  if (!dir) throw new Error(`no ${state} run in ${server.runsDir}`);
  return (JSON.parse(readFileSync(path.join(dir, 'kernels', 'index.json'), 'utf8')) as { snapshots: unknown[] }).snapshots.length;
}

/** The diagram's text line for a layer: its name and one-line config (e.g. "pool1  3x3 / 2 (overlapping)"). */
async function diagramLine(layer: string): Promise<string | undefined> {
  const lines = await page.getByTestId('arch-diagram').locator('svg g.row > text').allTextContents();
  return lines.map((t) => t.replace(/\s+/g, ' ').trim()).find((t) => t.startsWith(`${layer} `));
}

async function startRun(opts: { limit: number; testLimit: number; epochs: number; snapshotEvery: number }): Promise<void> {
  await page.keyboard.press('5');
  const snapshotEvery = page.getByTestId('snapshot-every');
  await snapshotEvery.evaluate((el) => el.closest('details')!.setAttribute('open', '')); // under "Recording"
  await snapshotEvery.fill(String(opts.snapshotEvery));
  await page.getByTestId('train-limit').fill(String(opts.limit));
  await page.getByTestId('test-limit').fill(String(opts.testLimit));
  await page.getByLabel('Epochs').fill(String(opts.epochs));
  await page.getByTestId('start-training').click();
}

describe.skipIf(NO_CHROMIUM !== null)('ConvScope in a browser', () => {
  it('loads, connects and shows the backend in use', async () => {
    await expect.poll(() => page.getByTestId('backend-name').textContent(), { timeout: 60_000 }).toMatch(/\w/);
    await page.getByTestId('arch-diagram').locator('svg').waitFor();
    await expect.poll(() => page.getByTestId('param-count').textContent()).toContain('44,426');
  });

  it('opens on the bundled pretrained LeNet-5 with a sample digit inspected, its activations on the diagram', async () => {
    // The architecture's blocks carry thumbnails of the sample's real activations without any user action.
    await expect.poll(() => page.getByTestId('arch-diagram').locator('image').count(), { timeout: 60_000 }).toBeGreaterThan(10);
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('predictions').locator('li .label').first().textContent(), { timeout: 60_000 }).toBe('7');
    expect(await page.getByText('mnist-7-test0.png').count()).toBeGreaterThan(0);
    await page.keyboard.press('1');
  });

  it('rebuilds the architecture and its parameter count live from the model options', async () => {
    // Pooling blocks carry their window and stride, as conv blocks carry their kernel and stride.
    expect(await diagramLine('pool1')).toBe('pool1 2x2 / 2');
    await page.getByTestId('model-select').selectOption('alexnet');
    await expect.poll(() => page.getByTestId('param-count').textContent(), { timeout: 30_000 }).toContain('60,965,224');
    await expect.poll(() => page.getByTestId('arch-diagram').getByText('GPU 2').count()).toBe(1);
    expect(await diagramLine('conv1')).toBe('conv1 96 @ 11x11 / 4, relu');
    expect(await diagramLine('pool1')).toBe('pool1 3x3 / 2 (overlapping)');
    await page.getByLabel('Overlapping pooling').uncheck();
    await expect.poll(() => diagramLine('pool5'), { timeout: 30_000 }).toBe('pool5 2x2 / 2');
    await page.getByLabel('Overlapping pooling').check();
    await expect.poll(() => diagramLine('pool5'), { timeout: 30_000 }).toBe('pool5 3x3 / 2 (overlapping)');
    await page.getByLabel('Grouped (two GPUs)').uncheck();
    await expect.poll(() => page.getByTestId('param-count').textContent(), { timeout: 30_000 }).toContain('62,378,344');
    await page.getByTestId('model-select').selectOption('lenet5');
    await expect.poll(() => page.getByTestId('param-count').textContent(), { timeout: 30_000 }).toContain('44,426');
  });

  it('exports the architecture as SVG', async () => {
    await page.keyboard.press('1');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-svg').click()]);
    const stream = await download.createReadStream();
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    expect(download.suggestedFilename()).toBe('lenet5-architecture.svg');
    expect(text).toMatch(/^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(text).toContain('conv1');
    expect(text).toContain('30,840'); // fc1's parameters are written beside it
  });

  it('shows every layer of a dropped PNG and a dropped JPEG', async () => {
    for (const [format, type] of [['png', 'image/png'], ['jpeg', 'image/jpeg']] as const) {
      const bytes = await mnistDigit(format === 'png' ? 0 : 1, format);
      await dropFile(page, bytes, `digit.${format === 'png' ? 'png' : 'jpg'}`, type);
      await expect.poll(() => page.getByTestId('activations').isVisible()).toBe(true);
      await expect.poll(() => page.getByTestId('predictions').locator('li').count(), { timeout: 60_000 }).toBe(5);
      // LeNet-5: 6 + 6 + 16 + 16 channel maps, and one strip for each of flatten, fc1, fc2.
      await expect.poll(() => page.getByTestId('activation-map').count(), { timeout: 30_000 }).toBe(47);
      await expect.poll(() => page.getByText(`digit.${format === 'png' ? 'png' : 'jpg'}`).count()).toBeGreaterThan(0);
    }
    expect(await page.getByTestId('drop-zone').count()).toBe(0);
  });

  it('trains LeNet-5 on 512 MNIST images: progress, curves and kernels update; views switch fast meanwhile', async () => {
    // Kernel snapshots every 4 steps: more of them than the stopped run below takes.
    await startRun({ limit: 512, testLimit: 500, epochs: 2, snapshotEvery: 4 });
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toMatch(/running|finished/);
    // Switch views while it trains; each switch must show its view within 200 ms.
    const times: number[] = [];
    for (const [key, id] of [['3', 'kernels'], ['4', 'health'], ['1', 'architecture'], ['2', 'activations'], ['6', 'compare'], ['5', 'training']] as const) {
      times.push(await switchView(page, key, `panel-${id}`));
    }
    console.log(`view switches during training (ms): ${times.map((t) => t.toFixed(0)).join(', ')}`);
    expect(Math.max(...times)).toBeLessThan(200);
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 120_000 }).toBe('finished');
    await expect.poll(() => page.getByTestId('loss-chart').locator('path[stroke-width="1.8"]').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('test-accuracy').textContent()).toMatch(/\d+\.\d+%/);
    await page.keyboard.press('3');
    // Every conv layer: LeNet-5's 6 conv1 and 16 conv2 kernels.
    await expect.poll(() => page.getByTestId('kernel-grid').locator('canvas').count(), { timeout: 30_000 }).toBe(22);
  });

  it('stops a run, opens it from the past runs, and scrubs its kernel timeline', async () => {
    // Far more epochs than it can finish before it is stopped, however fast the engine trains.
    await startRun({ limit: 8192, testLimit: 200, epochs: 500, snapshotEvery: 100 });
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('running');
    await expect.poll(() => page.locator('[role=progressbar]').getAttribute('aria-valuenow'), { timeout: 60_000 }).not.toBe('0');
    // The kernels view follows the run live (the engine streams each snapshot's kernels).
    await page.keyboard.press('3');
    await expect.poll(() => page.getByTestId('kernel-label').textContent(), { timeout: 30_000 }).toContain('latest (live)');
    await page.keyboard.press('5');
    await page.getByTestId('stop').click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('stopped');
    const rows = page.getByTestId('runs-table').locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
    // Open the first run (the finished one): the current run becomes it. Its kernel timeline is held back
    // 3 s, so a view still showing the stopped run's timeline meanwhile is caught.
    const finished = rows.filter({ hasText: 'finished' });
    slowReplies.method = 'kernelTimeline';
    await finished.getByRole('button', { name: /Open run/ }).click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('finished');
    await page.keyboard.press('3');
    const slider = page.getByTestId('timeline-slider');
    await slider.waitFor({ timeout: 30_000 });
    // The slider is the opened run's at once: never the stopped run's timeline (once seen with max 0) while
    // the opened one's is on its way.
    const max = Number(await slider.getAttribute('max'));
    slowReplies.method = null;
    expect(max).toBe(snapshotsOfRun('finished') - 1);
    expect(max).toBeGreaterThanOrEqual(1);
    await slider.fill('0');
    await expect.poll(() => page.getByTestId('kernel-label').textContent(), { timeout: 30_000 }).toContain(`snapshot 1 of ${max + 1}`);
    await slider.fill(String(max));
    await expect.poll(() => page.getByTestId('kernel-label').textContent(), { timeout: 30_000 }).toContain(`snapshot ${max + 1} of ${max + 1}`);
  });

  it('opens a confusion cell’s example in the Activations view, inspected by that run', async () => {
    await page.keyboard.press('6');
    const compare = page.getByTestId('compare');
    await compare.getByRole('checkbox').first().check();
    await compare.getByLabel('Test images').fill('100');
    await compare.getByRole('button', { name: 'Evaluate' }).click();
    // A diagonal cell: its examples are images of that class which the run classifies as that class.
    const diagonal = compare.getByRole('button', { name: /images of (\S+) predicted as \1; open them/ }).first();
    await diagonal.waitFor({ timeout: 60_000 });
    const truth = /images of (\S+) predicted/.exec((await diagonal.getAttribute('aria-label'))!)![1];
    const count = Number(/^(\d+) images/.exec((await diagonal.getAttribute('aria-label'))!)![1]);
    await diagonal.click();
    // The cell's examples as thumbnails of their stored pixels (up to 40), each a button.
    const thumbs = page.getByTestId('cell-examples').getByRole('button');
    await expect.poll(() => thumbs.count(), { timeout: 30_000 }).toBe(Math.min(count, 40));
    const drawn = await thumbs.first().locator('canvas').evaluate((c: HTMLCanvasElement) => {
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] > 128) lit++;
      return { width: c.width, lit };
    });
    expect(drawn.width).toBe(28);
    expect(drawn.lit).toBeGreaterThan(20); // a digit's strokes, not a blank square
    await thumbs.first().click();
    await expect.poll(() => page.getByTestId('activations').isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => page.getByTestId('predictions').locator('li .label').first().textContent(), { timeout: 60_000 }).toBe(truth);
    expect(await page.getByText(`true class ${truth}`).count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole('img', { name: 'The input as the model sees it' }).count()).toBe(1);
  });

  it('has no serious or critical accessibility violations in any view', async () => {
    for (const [key, , testid] of VIEWS) {
      await page.keyboard.press(key);
      await page.getByTestId(testid).first().waitFor();
      const violations = await seriousViolations(page);
      expect(violations, `view ${key}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
    }
  });

  it('raised no errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
