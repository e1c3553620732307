import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METHODS, messagePortTransport, type ConvscopeBridge, type EngineNotice, type ShellCommand } from '../../src-main/contract';
import { serveEngine } from '../../src-main/engine/host';
import { createLabHandlers } from '../contract/lab-handlers';
import { fake, ipcRenderer } from './electron-mock';

vi.mock('electron', async () => (await import('./electron-mock')).electronModule());

let dir: string;
let ports: MessagePort[] = [];
let engines: AbortController;
const argv = process.argv;

async function loadPreload(pageUrl: string, origin: string | null = 'app://convscope'): Promise<ConvscopeBridge | undefined> {
  vi.resetModules();
  fake.reset();
  process.argv = origin ? [...argv, `--convscope-origin=${origin}`] : [...argv];
  vi.stubGlobal('location', { href: pageUrl });
  await import('../../src-main/app/preload');
  return fake.exposed.get('convscope') as ConvscopeBridge | undefined;
}

/** main handing the preload a port whose other end a real engine host serves. */
function sendEnginePort(payload: unknown = {}, extraPorts = 0) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  serveEngine(messagePortTransport(port1 as never), createLabHandlers({ runsDir: dir, stepMs: 1, signal: engines.signal }));
  const more = Array.from({ length: extraPorts }, () => new MessageChannel().port1);
  ipcRenderer.emit('engine:port', { ports: [port2, ...more], sender: ipcRenderer }, payload);
  return port1;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-preload-'));
  engines = new AbortController();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => {
  engines.abort();
  for (const p of ports) p.close();
  ports = [];
  process.argv = argv;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('preload (electron mocked)', () => {
  it("exposes only window.convscope: the contract's functions and the shell's, no IPC object", async () => {
    const bridge = await loadPreload('app://convscope/index.html');
    expect([...fake.exposed.keys()]).toEqual(['convscope']);
    expect(Object.keys(bridge!).sort()).toEqual(['engine', 'shell']);
    expect(Object.keys(bridge!.engine).sort()).toEqual([...METHODS, 'onNotice'].sort());
    expect(Object.keys(bridge!.shell).sort()).toEqual(['addRecent', 'onCommand', 'openDialog', 'pathForFile', 'recent', 'saveFile']);
    for (const value of [...Object.values(bridge!.engine), ...Object.values(bridge!.shell)]) expect(typeof value).toBe('function');
    expect(JSON.stringify(Object.keys(bridge!))).not.toMatch(/ipc|send|invoke|on\b/i);
    // It asked main for an engine port.
    expect(ipcRenderer.send).toHaveBeenCalledWith('engine:connect');
  });

  it('exposes nothing to a page of another origin', async () => {
    expect(await loadPreload('https://evil.example/index.html')).toBeUndefined();
    expect(await loadPreload('app://convscope/index.html', null)).toBeUndefined();
    expect(ipcRenderer.send).not.toHaveBeenCalled();
  });

  it('talks to the engine over the port main hands over; calls made before it wait for it', async () => {
    const bridge = (await loadPreload('app://convscope/index.html'))!;
    const early = bridge.engine.listDatasets({});
    sendEnginePort();
    const datasets = await early;
    expect(datasets.ok && datasets.result.datasets[0].id).toBe('synthetic');
    const kernels = await bridge.engine.kernels({ model: { kind: 'zoo', id: 'tiny', overrides: { filters: 2 } } });
    expect(kernels.ok && kernels.result.layers[0].kernel.data.slice(0, 2)).toEqual(Float32Array.from([Math.sin(1), Math.sin(2)]));
    // Invalid params never leave the page.
    const bad = await bridge.engine.summary({ model: { kind: 'zoo', id: 'tiny' } } as never);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('ignores engine ports and commands that do not match the contract', async () => {
    const bridge = (await loadPreload('app://convscope/index.html'))!;
    const commands: ShellCommand[] = [];
    bridge.shell.onCommand((c) => commands.push(c));
    ipcRenderer.emit('shell:command', { ports: [] }, { type: 'open', kind: 'image', path: '/pics/a.png' });
    ipcRenderer.emit('shell:command', { ports: [] }, { type: 'rm', path: '/' });
    ipcRenderer.emit('shell:command', { ports: [] }, { type: 'open', kind: 'image', path: '' });
    ipcRenderer.emit('shell:command', { ports: [new MessageChannel().port1] }, { type: 'export' });
    expect(commands).toEqual([{ type: 'open', kind: 'image', path: '/pics/a.png' }]);
    sendEnginePort({ evil: true });
    sendEnginePort({}, 1);
    // Neither was attached: a call still waits for a good port.
    let settled = false;
    const call = bridge.engine.listModels({}).then((r) => ((settled = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    sendEnginePort();
    expect((await call).ok).toBe(true);
  });

  it('checks shell calls before sending and their replies after', async () => {
    const bridge = (await loadPreload('app://convscope/index.html'))!;
    ipcRenderer.invoke.mockResolvedValueOnce('/home/u/pics/cat.png');
    expect(await bridge.shell.openDialog('image')).toBe('/home/u/pics/cat.png');
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith('shell:open-dialog', 'image');
    expect(() => bridge.shell.openDialog('everything' as never)).toThrow(TypeError);
    ipcRenderer.invoke.mockResolvedValueOnce({ not: 'a path' });
    await expect(bridge.shell.openDialog('run')).rejects.toThrow(/unexpected reply/);
    ipcRenderer.invoke.mockResolvedValueOnce([{ kind: 'model', path: '/m/model.json' }]);
    expect(await bridge.shell.recent()).toEqual([{ kind: 'model', path: '/m/model.json' }]);
  });

  it('on an engine restart: fails what was in flight, tells the page, and carries on over the new port', async () => {
    const bridge = (await loadPreload('app://convscope/index.html'))!;
    const oldEngine = sendEnginePort();
    const started = await bridge.engine.startTraining({ config: { model: { id: 'tiny', overrides: {} }, dataset: 'synthetic', epochs: 1000 } });
    if (!started.ok) throw new Error(started.error.message);
    const ends: unknown[] = [];
    const sub = await bridge.engine.subscribeRun({ runId: started.result.runId }, () => {}, (error) => ends.push(error));
    expect(sub.ok).toBe(true);
    const notices: EngineNotice[] = [];
    bridge.engine.onNotice((n) => notices.push(n));
    const notice: EngineNotice = { type: 'engine-restarted', reason: 'the engine process exited (code 9)', resumed: [{ runId: 'run-1', runDir: path.join(dir, 'x') }], resumeErrors: [] };
    oldEngine.close();
    sendEnginePort({ notice });
    expect(ends).toEqual([{ code: 'engine-restarted', message: 'the engine was restarted' }]);
    expect(notices).toEqual([notice]);
    const models = await bridge.engine.listModels({});
    expect(models.ok).toBe(true);
  });
});
