// A run trained outside ConvScope, end to end: the exported PyTorch trainer writes a run folder while
// Debian's Chromium shows it through `convscope serve --open`: its loss curve and kernel timeline grow.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { tf } from '../../src-main/engine/tf';
import { mnistDataFolder } from '../../src-main/engine/data/mnist';
import { exportPytorch } from '../../src-main/engine/export/pytorch';
import { defaultConfig, defaultOptimizer } from '../../src-main/engine/train';
import { NO_TORCH, spawnTorchrun } from '../export/python';
import { NO_CHROMIUM, launchBrowser } from './support/browser';
import { startServer, type Server } from './support/server';

let scratch: string;
let runDir: string;
let trainer: ChildProcess | null = null;
let server: Server;
let browser: Browser;
let page: Page;

describe.skipIf(NO_TORCH !== null || NO_CHROMIUM !== null)('a run trained by the exported PyTorch trainer under torchrun (2 Gloo processes), watched in the browser', () => {
  beforeAll(async () => {
    execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
    await tf.setBackend('cpu');
    scratch = await mkdtemp(path.join(tmpdir(), 'convscope-e2e-external-'));
    const config = { ...defaultConfig('lenet5', 'mnist'), batchSize: 32, epochs: 5000, limit: 1024, testLimit: 100, optimizer: defaultOptimizer('sgd', { lr: 0.05 }), snapshotEvery: 8, statsEvery: 8 };
    const pkg = (await exportPytorch(config, path.join(scratch, 'pkg'))).dir;
    runDir = path.join(scratch, 'external', 'lenet5-ddp');
    trainer = spawnTorchrun(2, path.join(pkg, 'train.py'), ['--run-dir', runDir, '--data-dir', mnistDataFolder()]);
    const deadline = Date.now() + 60_000;
    while (!existsSync(path.join(runDir, 'status.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    server = await startServer(['--open', path.dirname(runDir)]);
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(server.url);
  }, 240_000);

  afterAll(async () => {
    if (trainer && trainer.exitCode === null) {
      process.kill(-trainer.pid!, 'SIGTERM'); // torchrun and its workers: they checkpoint and stop at the next step
      await new Promise((r) => trainer!.once('exit', r));
    }
    await browser?.close();
    await server?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** The loss curve's line (its SVG path; the chart thins long series, so its shape changes as steps arrive). */
  const lossPath = async () => (await page.getByTestId('loss-chart').locator('path[stroke-width="1.8"]').first().getAttribute('d')) ?? '';
  const lossPoints = async () => ((await lossPath()).match(/[ML]/g) ?? []).length;

  it('lists the run, opens it as training, and its loss curve and kernel timeline grow as the files do', { timeout: 600_000 }, async () => {
    const command = JSON.parse(readFileSync(path.join(runDir, 'command.json'), 'utf8')) as { backend: { distributed: string; worldSize: number } };
    expect(command.backend).toMatchObject({ distributed: 'gloo', worldSize: 2 });
    await page.keyboard.press('5');
    const row = page.getByTestId('runs-table').locator('tbody tr', { hasText: 'lenet5-ddp' });
    await expect.poll(() => row.count(), { timeout: 60_000 }).toBe(1);
    await row.getByRole('button', { name: /Open run/ }).click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('running');

    await expect.poll(lossPoints, { timeout: 60_000 }).toBeGreaterThan(1);
    // Growth on disk first (the trainer shares two cores with the browser, the engine and other tests), then in the page.
    const before = await lossPath();
    const steps = () => readFileSync(path.join(runDir, 'batch.jsonl'), 'utf8').split('\n').length - 1;
    const stepsBefore = steps();
    await expect.poll(steps, { timeout: 180_000 }).toBeGreaterThan(stepsBefore);
    await expect.poll(lossPath, { timeout: 60_000 }).not.toBe(before);

    await page.keyboard.press('3');
    const slider = page.getByTestId('timeline-slider');
    await slider.waitFor({ timeout: 60_000 });
    const shown = Number(await slider.getAttribute('max')) + 1;
    const onDisk = () => (JSON.parse(readFileSync(path.join(runDir, 'kernels', 'index.json'), 'utf8')) as { snapshots: unknown[] }).snapshots.length;
    await expect.poll(onDisk, { timeout: 180_000 }).toBeGreaterThan(shown);
    await expect.poll(async () => Number(await slider.getAttribute('max')) + 1, { timeout: 60_000 }).toBeGreaterThan(shown);
    console.log(`kernel timeline grew from ${shown} to ${Number(await slider.getAttribute('max')) + 1} snapshots (${onDisk()} on disk now); the loss curve was redrawn as the batch log grew`);
  });
});
