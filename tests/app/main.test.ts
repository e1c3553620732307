import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParentPort } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineClient, messagePortTransport } from '../../src-main/contract';
import { serveInUtilityProcess } from '../../src-main/app/engine-utility';
import { createLabHandlers, pgm } from '../contract/lab-handlers';
import { fake, FakeWebContents, ipcEvent, navigationEvent, readyNow, type FakeUtilityProcess } from './electron-mock';

vi.mock('electron', async () => (await import('./electron-mock')).electronModule());

let dir: string;
let logged: string[] = [];
const tick = () => new Promise((r) => setImmediate(r));
async function settle(n = 10) {
  for (let i = 0; i < n; i++) await tick();
}

beforeEach(() => {
  vi.resetModules();
  fake.reset();
  dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-main-'));
  fake.userData = dir;
  delete process.env.ELECTRON_RENDERER_URL;
  logged = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void logged.push(line));
  fake.onFork = (child: FakeUtilityProcess) => {
    serveInUtilityProcess(child.childPort as unknown as ParentPort, createLabHandlers({ runsDir: path.join(dir, 'runs') }));
  };
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function startApp() {
  await import('../../src-main/app/main');
  readyNow();
  await settle();
  expect(fake.windows).toHaveLength(1);
  return fake.windows[0];
}

describe('Electron main process (electron mocked)', () => {
  it('creates one window with the secure web preferences, loading the app origin', async () => {
    const win = await startApp();
    const prefs = win.options.webPreferences;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.navigateOnDragDrop).toBe(false);
    expect(prefs.preload).toMatch(/[/\\]preload[/\\]preload\.cjs$/);
    expect(prefs.additionalArguments).toEqual(['--convscope-origin=app://convscope']);
    expect(win.loadedUrl).toBe('app://convscope/index.html');
    const { protocol } = await import('electron');
    expect(protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  });

  it('a packaged app tells the engine where electron-builder put resources/', async () => {
    const { app } = await import('electron');
    const saved = { packaged: app.isPackaged, resourcesPath: process.resourcesPath, env: process.env.CONVSCOPE_RESOURCES };
    delete process.env.CONVSCOPE_RESOURCES;
    Object.assign(app, { isPackaged: true });
    Object.assign(process, { resourcesPath: '/opt/ConvScope/resources-root' });
    try {
      await startApp();
      expect(process.env.CONVSCOPE_RESOURCES).toBe(path.join('/opt/ConvScope/resources-root', 'resources'));
    } finally {
      Object.assign(app, { isPackaged: saved.packaged });
      Object.assign(process, { resourcesPath: saved.resourcesPath });
      if (saved.env === undefined) delete process.env.CONVSCOPE_RESOURCES;
      else process.env.CONVSCOPE_RESOURCES = saved.env;
    }
  });

  it('denies navigation, pop-ups, webviews and permissions, and sends a strict CSP', async () => {
    const win = await startApp();
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
      const e = navigationEvent('https://evil.example/');
      win.webContents.emit(event, e);
      expect(e.prevented, event).toBe(true);
    }
    expect(win.webContents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    // Any other web contents (a devtools page, a stray webview) gets the same guards.
    const other = new FakeWebContents();
    (await import('electron')).app.emit('web-contents-created', {}, other);
    const e = navigationEvent('file:///etc/passwd');
    other.emit('will-navigate', e);
    expect(e.prevented).toBe(true);
    expect(other.windowOpenHandler?.({ url: 'x' })).toEqual({ action: 'deny' });

    const granted = vi.fn();
    fake.permissionRequest?.({}, 'media', granted);
    expect(granted).toHaveBeenCalledWith(false);
    expect(fake.permissionCheck?.()).toBe(false);
    let headers: Record<string, string[]> = {};
    fake.headersListener?.({ responseHeaders: { 'content-type': ['text/html'] } }, (r) => (headers = r.responseHeaders));
    const csp = headers['Content-Security-Policy'][0];
    expect(csp).toMatch(/script-src 'self';/);
    expect(csp).not.toMatch(/unsafe-eval|wasm-unsafe-eval/);
    expect(csp).toMatch(/object-src 'none'/);
    expect(headers['content-type']).toEqual(['text/html']);
  });

  it('serves the renderer under app:// with the CSP, and not files outside it', async () => {
    await startApp();
    const handler = fake.protocolHandlers.get('app');
    expect(handler).toBeDefined();
    const outside = await handler!({ url: 'app://convscope/%2e%2e/main/main.js' });
    expect(outside.status).toBe(404);
    const index = await handler!({ url: 'app://convscope/index.html' });
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  });

  it('builds the File menu: open image, model, run, recent, export', async () => {
    const win = await startApp();
    const file = (fake.menu?.template as { label?: string; submenu?: { label?: string; click?: () => void }[] }[]).find((m) => m.label === 'File')!;
    const labels = file.submenu!.map((i) => i.label).filter(Boolean);
    expect(labels).toEqual(['Open Image…', 'Open Model…', 'Open Run…', 'Recent', 'Export…']);
    file.submenu!.find((i) => i.label === 'Export…')!.click!();
    expect(win.webContents.sent).toContainEqual({ channel: 'shell:command', args: [{ type: 'export' }] });
  });

  it('hands the window a direct port to the engine, and only to the window', async () => {
    const win = await startApp();
    const connect = fake.ipcListeners.get('engine:connect')!;
    // A subframe of the window, and a frame of another origin, are refused.
    connect(ipcEvent(win.webContents, { url: 'app://convscope/index.html' }));
    win.webContents.mainFrame = { url: 'https://evil.example/' };
    connect(ipcEvent(win.webContents));
    await settle();
    expect(win.webContents.posted).toHaveLength(0);
    expect(logged).toEqual(['convscope: refused engine:connect from app://convscope/index.html', 'convscope: refused engine:connect from https://evil.example/']);
    win.webContents.mainFrame = { url: 'app://convscope/index.html' };
    connect(ipcEvent(win.webContents));
    await settle();
    expect(win.webContents.posted).toHaveLength(1);
    const [{ channel, message, ports }] = win.webContents.posted;
    expect(channel).toBe('engine:port');
    expect(message).toEqual({});
    expect(ports).toHaveLength(1);
    const client = new EngineClient(messagePortTransport(ports[0].raw as never));
    const reply = await client.call('summary', { model: { kind: 'zoo', id: 'tiny', overrides: { filters: 4 } } });
    expect(reply.ok && reply.result.totalParams).toBe(10 * 4 + 2 * 4 + 2);
    client.close();
  });

  it('quits when another instance holds the lock, and opens the files a second instance is given', async () => {
    fake.lock = false;
    const { app } = await import('electron');
    await import('../../src-main/app/main');
    readyNow();
    await settle();
    expect(app.quit).toHaveBeenCalled();
    expect(fake.windows).toHaveLength(0);

    vi.resetModules();
    fake.reset();
    fake.lock = true;
    const win = await startApp();
    const image = path.join(dir, 'digit.pgm');
    writeFileSync(image, pgm(8, 8, new Uint8Array(64)));
    const electron = await import('electron');
    electron.app.emit('second-instance', {}, ['/opt/ConvScope/convscope', image, '--flag', path.join(dir, 'nothing.png')], dir);
    expect(win.focused).toBe(true);
    expect(win.webContents.sent).toEqual([{ channel: 'shell:command', args: [{ type: 'open', kind: 'image', path: image }] }]);
  });
});
