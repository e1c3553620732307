import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IpcMain, WebContents } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rendererResponse, resolveRendererFile } from '../../src-main/app/app-protocol';
import { registerShellIpc, type ShellIpcDeps } from '../../src-main/app/ipc';
import { menuTemplate } from '../../src-main/app/menu';
import { classifyPath, openablePaths } from '../../src-main/app/open-paths';
import { MAX_RECENT, RecentFiles } from '../../src-main/app/recent';
import { createMainWindow } from '../../src-main/app/window';
import { fake, FakeWebContents, ipcEvent, ipcMain } from './electron-mock';

vi.mock('electron', async () => (await import('./electron-mock')).electronModule());

let dir: string;
beforeEach(() => {
  fake.reset();
  dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-shell-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('app:// renderer files', () => {
  it('serves files inside the renderer folder only', async () => {
    const root = path.join(dir, 'renderer');
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
    writeFileSync(path.join(root, 'assets', 'app.js'), 'export {}');
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
    expect(resolveRendererFile(root, 'app://convscope/')).toBe(path.join(root, 'index.html'));
    expect(resolveRendererFile(root, 'app://convscope/assets/app.js')).toBe(path.join(root, 'assets', 'app.js'));
    for (const url of ['app://convscope/../secret.txt', 'app://convscope/%2e%2e/secret.txt', 'app://convscope/assets/%2e%2e%2f%2e%2e%2fsecret.txt', 'app://convscope/assets/link.txt', 'app://other/index.html', 'app://convscope/%E0%A4%A', 'app://convscope/x%00.js']) {
      expect(resolveRendererFile(root, url), url).toBeNull();
    }
    const js = await rendererResponse(root, 'app://convscope/assets/app.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await js.text()).toBe('export {}');
    expect((await rendererResponse(root, 'app://convscope/assets/link.txt')).status).toBe(404);
  });

  it('says the renderer is not built when it is not', async () => {
    const response = await rendererResponse(path.join(dir, 'nothing'), 'app://convscope/index.html');
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/not built.*npm run build/);
  });
});

describe('main window', () => {
  it('is created with the secure preferences and remembers its size and place', () => {
    const win = createMainWindow({ preload: '/app/out/preload/preload.cjs', appOrigin: 'app://convscope', userData: dir, log: () => {} });
    const w = fake.windows[0];
    expect(w.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: '/app/out/preload/preload.cjs' });
    expect(w.options).toMatchObject({ width: 1280, height: 820, show: false });
    w.bounds = { x: 40, y: 30, width: 1500, height: 900 };
    w.maximized = true;
    (win as unknown as FakeWebContents).emit('close');
    expect(JSON.parse(readFileSync(path.join(dir, 'window-state.json'), 'utf8'))).toEqual({ width: 1500, height: 900, x: 40, y: 30, maximized: true });
    createMainWindow({ preload: 'p', appOrigin: 'app://convscope', userData: dir, log: () => {} });
    expect(fake.windows[1].options).toMatchObject({ width: 1500, height: 900, x: 40, y: 30 });
    expect(fake.windows[1].maximized).toBe(true);
  });

  it('forgets a position on no display, and ignores a damaged state file', () => {
    writeFileSync(path.join(dir, 'window-state.json'), JSON.stringify({ width: 1000, height: 700, x: 5000, y: 5000, maximized: false }));
    createMainWindow({ preload: 'p', appOrigin: 'app://convscope', userData: dir, log: () => {} });
    expect(fake.windows[0].options.x).toBeUndefined();
    expect(fake.windows[0].options.width).toBe(1000);
    writeFileSync(path.join(dir, 'window-state.json'), '{"width": -4');
    createMainWindow({ preload: 'p', appOrigin: 'app://convscope', userData: dir, log: () => {} });
    expect(fake.windows[1].options).toMatchObject({ width: 1280, height: 820 });
  });
});

describe('shell IPC', () => {
  function setup() {
    const contents = new FakeWebContents();
    const logged: string[] = [];
    const deps: ShellIpcDeps = {
      contents: () => contents as unknown as WebContents,
      appOrigin: 'app://convscope',
      openDialog: vi.fn(async () => '/pics/cat.png'),
      saveFile: vi.fn(async () => '/out/k.png'),
      recent: () => [],
      addRecent: vi.fn(),
      connectEngine: vi.fn(),
      log: (line) => logged.push(line),
    };
    registerShellIpc(ipcMain as unknown as IpcMain, deps);
    return { contents, deps, logged, invoke: (channel: string, event: unknown, payload?: unknown) => fake.ipcHandlers.get(channel)!(event, payload) };
  }

  it('answers the window and refuses other frames, other origins and other windows', async () => {
    const { contents, deps, logged, invoke } = setup();
    expect(await invoke('shell:open-dialog', ipcEvent(contents), 'image')).toBe('/pics/cat.png');
    await expect(invoke('shell:open-dialog', ipcEvent(contents, { url: 'app://convscope/index.html' }), 'image')).rejects.toThrow(/refused/);
    contents.mainFrame = { url: 'https://evil.example/' };
    await expect(invoke('shell:open-dialog', ipcEvent(contents), 'image')).rejects.toThrow(/refused/);
    contents.mainFrame = { url: 'app://convscope/index.html' };
    await expect(invoke('shell:open-dialog', ipcEvent(new FakeWebContents()), 'image')).rejects.toThrow(/refused/);
    await expect(invoke('shell:open-dialog', { sender: contents, senderFrame: null }, 'image')).rejects.toThrow(/refused/);
    expect(deps.openDialog).toHaveBeenCalledTimes(1);
    expect(logged.filter((l) => l.startsWith('refused shell:open-dialog'))).toHaveLength(4);
  });

  it('refuses payloads that do not match the contract', async () => {
    const { contents, deps, invoke } = setup();
    await expect(invoke('shell:open-dialog', ipcEvent(contents), 'anything')).rejects.toThrow(/invalid payload/);
    await expect(invoke('shell:save-file', ipcEvent(contents), { suggestedName: 'k.png', data: 'not bytes' })).rejects.toThrow(/invalid payload/);
    await expect(invoke('shell:add-recent', ipcEvent(contents), { kind: 'image', path: '' })).rejects.toThrow(/invalid payload/);
    expect(await invoke('shell:save-file', ipcEvent(contents), { suggestedName: 'k.png', data: new Uint8Array([1, 2]) })).toBe('/out/k.png');
    expect(deps.saveFile).toHaveBeenCalledWith({ suggestedName: 'k.png', data: new Uint8Array([1, 2]) });
    expect(deps.addRecent).not.toHaveBeenCalled();
  });
});

describe('menu, paths to open, recent files', () => {
  it('wires the File menu to its actions', () => {
    const actions = { open: vi.fn(), openRecent: vi.fn(), exportView: vi.fn() };
    const recent = [{ kind: 'run' as const, path: '/runs/20261128-lenet5' }];
    const template = menuTemplate(recent, actions, 'linux');
    const file = template.find((m) => m.label === 'File')!.submenu as { label?: string; click?: () => void; submenu?: { label?: string; click?: () => void }[] }[];
    file.find((i) => i.label === 'Open Model…')!.click!();
    file.find((i) => i.label === 'Recent')!.submenu![0].click!();
    expect(actions.open).toHaveBeenCalledWith('model');
    expect(actions.openRecent).toHaveBeenCalledWith(recent[0]);
    expect(file.find((i) => i.label === 'Recent')!.submenu![0].label).toBe('Run: 20261128-lenet5');
    expect(menuTemplate([], actions, 'darwin')[0]).toEqual({ role: 'appMenu' });
  });

  it('tells images, models and runs apart', () => {
    const run = path.join(dir, 'run');
    mkdirSync(run);
    writeFileSync(path.join(run, 'config.json'), '{}');
    const modelDir = path.join(dir, 'model');
    mkdirSync(modelDir);
    writeFileSync(path.join(modelDir, 'model.json'), '{}');
    writeFileSync(path.join(dir, 'cat.JPG'), '');
    writeFileSync(path.join(dir, 'net.onnx'), '');
    writeFileSync(path.join(dir, 'notes.txt'), '');
    expect(classifyPath(run)).toBe('run');
    expect(classifyPath(modelDir)).toBe('model');
    expect(classifyPath(path.join(dir, 'cat.JPG'))).toBe('image');
    expect(classifyPath(path.join(dir, 'net.onnx'))).toBe('model');
    expect(classifyPath(path.join(dir, 'notes.txt'))).toBeNull();
    expect(classifyPath(path.join(dir, 'missing.png'))).toBeNull();
    expect(openablePaths(['--inspect', 'cat.JPG', 'run', 'notes.txt'], dir)).toEqual([
      { kind: 'image', path: path.join(dir, 'cat.JPG') },
      { kind: 'run', path: run },
    ]);
  });

  it('keeps the newest recent files first, without duplicates or vanished files', () => {
    const files = Array.from({ length: MAX_RECENT + 2 }, (_, i) => path.join(dir, `img${i}.png`));
    for (const f of files) writeFileSync(f, '');
    const recent = new RecentFiles(dir);
    for (const f of files) recent.add({ kind: 'image', path: f });
    recent.add({ kind: 'image', path: files[5] });
    rmSync(files[11]);
    const again = new RecentFiles(dir).list().map((i) => path.basename(i.path));
    expect(again).toEqual(['img5.png', 'img10.png', 'img9.png', 'img8.png', 'img7.png', 'img6.png', 'img4.png', 'img3.png', 'img2.png']);
  });
});
