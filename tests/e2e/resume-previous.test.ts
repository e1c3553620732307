// A run whose latest checkpoint is damaged, end to end: Chromium against the web host and the real engine.
// Resume in the past runs is refused, naming the damaged file and the intact previous checkpoint, and the
// offered "Resume from the previous checkpoint" continues the run from that step to its end.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { defaultConfig, startRun } from '../../src-main/engine/train';
import { NO_CHROMIUM, launchBrowser } from './support/browser';
import { startServer, type Server } from './support/server';


let server: Server;
let browser: Browser;
let page: Page;
let runDir: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  execFileSync('npx', ['vite', 'build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  server = await startServer();
  // 64 MNIST images in batches of 16, a checkpoint every 2 steps, stopped after step 3: the latest
  // checkpoint is the stop's (step 3), the previous one step 2's.
  runDir = path.join(server.runsDir, 'damaged');
  const config = { ...defaultConfig('lenet5', 'mnist'), backend: 'cpu', limit: 64, testLimit: 32, batchSize: 16, checkpointEverySteps: 2, snapshotEvery: 0, statsEvery: 0, probeSize: 16 };
  const trainer = await startRun(config, { runDir });
  trainer.on((e) => void (e.type === 'batch' && e.record.step === 3 && trainer.stop()));
  expect((await trainer.run()).state).toBe('stopped');
  trainer.dispose();
  const latest = path.join(runDir, 'checkpoint.bin');
  const bytes = await readFile(latest);
  bytes.fill(0, bytes.length - 4096);
  await writeFile(latest, bytes);

  browser = await launchBrowser();
  page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(NO_CHROMIUM !== null)('a run whose latest checkpoint is damaged', () => {
  it('is refused by name, and resumes from the previous checkpoint when asked', async () => {
    await expect.poll(() => page.getByTestId('backend-name').textContent(), { timeout: 60_000 }).toMatch(/\w/);
    await page.keyboard.press('5');
    const row = page.getByTestId('runs-table').locator('tbody tr').filter({ hasText: 'damaged' });
    await row.getByRole('button', { name: /Resume run/ }).click();
    const offer = page.getByTestId('resume-previous');
    await offer.waitFor({ timeout: 30_000 });
    const alert = await page.getByRole('alert').filter({ hasText: 'is corrupt' }).textContent();
    expect(alert).toContain(`checkpoint ${path.join(runDir, 'checkpoint.bin')} is corrupt`);
    expect(alert).toContain(`the previous checkpoint ${path.join(runDir, 'checkpoint.prev.bin')} (step 2) is intact`);

    await offer.click();
    await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 60_000 }).toBe('finished');
    expect(await offer.count()).toBe(0);
    const command = JSON.parse(await readFile(path.join(runDir, 'command.json'), 'utf8'));
    expect(command.resumes.map((r: { fromStep: number }) => r.fromStep)).toEqual([2]);
    expect(pageErrors).toEqual([]);
  });
});
