// The real window (issue 17, section 8): the built app launched in Electron through playwright-core's
// _electron. The window opens on the bundled run with its sample digit inspected, a dropped image is
// inspected by the engine's utility process, the engine names its backend (wasm when no native backend is
// installed) and the renderer's CSP refuses nothing. Runs where the Electron binary is installed and a
// display exists; elsewhere each test is skipped with the reason (never downloaded here: `require('electron')`
// would fetch the binary, so its install is read from node_modules/electron/path.txt instead).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { mnistDigit } from '../e2e/support/images';
import { dropFile } from '../e2e/support/page';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The Electron executable ($CONVSCOPE_ELECTRON, else electron's own install), or why this test cannot run. */
export function electronBinary(env: NodeJS.ProcessEnv = process.env, root = ROOT): { path: string } | { reason: string } {
  if (env.CONVSCOPE_ELECTRON) {
    return existsSync(env.CONVSCOPE_ELECTRON) ? { path: env.CONVSCOPE_ELECTRON } : { reason: `CONVSCOPE_ELECTRON names ${env.CONVSCOPE_ELECTRON}, which does not exist` };
  }
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  if (!existsSync(pathFile)) {
    return { reason: 'the Electron binary is not installed (node_modules/electron/path.txt is missing: its download did not run); install it or set CONVSCOPE_ELECTRON to an electron executable' };
  }
  const binary = path.join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return { reason: `the Electron binary ${binary} is missing` };
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { reason: 'no display (DISPLAY and WAYLAND_DISPLAY unset): run under xvfb-run' };
  return { path: binary };
}

const electron = electronBinary();
const skipReason = 'reason' in electron ? electron.reason : null;

let app: ElectronApplication | undefined;
let page: Page;
let userHome: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (skipReason) return;
  execFileSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  userHome = await mkdtemp(path.join(tmpdir(), 'convscope-electron-'));
  app = await _electron.launch({
    executablePath: (electron as { path: string }).path,
    args: [ROOT],
    cwd: ROOT,
    // A fresh profile: settings and recent files go to the scratch folder.
    env: { ...process.env, HOME: userHome, XDG_CONFIG_HOME: path.join(userHome, '.config') },
    timeout: 60_000,
  });
  page = await app.firstWindow();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
}, 300_000);

afterAll(async () => {
  await app?.close();
  if (userHome) await rm(userHome, { recursive: true, force: true });
});

describe('the built Electron app', () => {
  it('opens its window on the bundled run with the sample digit inspected', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await expect.poll(() => page.getByTestId('param-count').textContent(), { timeout: 60_000 }).toContain('44,426');
    await page.keyboard.press('2');
    await expect.poll(() => page.getByTestId('predictions').locator('li .label').first().textContent(), { timeout: 60_000 }).toBe('7');
  });

  it("inspects a dropped image in the engine's utility process", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await dropFile(page, await mnistDigit(1, 'png'), 'dropped-digit.png', 'image/png');
    await expect.poll(() => page.getByText('dropped-digit.png').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('predictions').locator('li').count(), { timeout: 60_000 }).toBe(5);
    await expect.poll(() => page.getByTestId('activation-map').count(), { timeout: 30_000 }).toBe(47);
  });

  it('the engine answers with its backend, and the CSP refused nothing (the wasm backend included)', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    await expect.poll(() => page.getByTestId('backend-name').textContent(), { timeout: 60_000 }).toMatch(/wasm|node|webgpu|cpu/);
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to|WebAssembly/i.test(e))).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

describe('finding the Electron binary', () => {
  it('gives a reason, never a download, where the binary is missing', () => {
    const missing = electronBinary({}, path.join(tmpdir(), 'no-such-convscope-root'));
    expect(missing).toEqual({ reason: expect.stringMatching(/^the Electron binary is not installed/) });
    expect(electronBinary({ CONVSCOPE_ELECTRON: '/no/such/electron' })).toEqual({ reason: 'CONVSCOPE_ELECTRON names /no/such/electron, which does not exist' });
  });
});
