import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParentPort, WebContents } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EngineClient, messagePortTransport, type EngineNotice } from '../../src-main/contract';
import { serveInUtilityProcess } from '../../src-main/app/engine-utility';
import { EngineProcess, MAX_RESTARTS } from '../../src-main/app/engine-process';
import { createLabHandlers } from '../contract/lab-handlers';
import { fake, FakeWebContents, type FakeUtilityProcess } from './electron-mock';

vi.mock('electron', async () => (await import('./electron-mock')).electronModule());

let dir: string;
let engines: AbortController;
const clients: EngineClient[] = [];

async function until(what: string, ok: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The window's side of the latest port main posted to `contents`. */
function windowClient(contents: FakeWebContents): EngineClient {
  const posted = contents.posted.at(-1)!;
  const client = new EngineClient(messagePortTransport(posted.ports[0].raw as never));
  clients.push(client);
  return client;
}

beforeEach(() => {
  fake.reset();
  dir = mkdtempSync(path.join(os.tmpdir(), 'convscope-engine-process-'));
  engines = new AbortController();
  fake.onFork = (child: FakeUtilityProcess) => {
    serveInUtilityProcess(child.childPort as unknown as ParentPort, createLabHandlers({ runsDir: dir, stepMs: 2, signal: engines.signal }));
  };
});
afterEach(() => {
  engines.abort();
  for (const c of clients.splice(0)) c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('engine utility process (electron mocked)', () => {
  it('forks the engine entry and gives each window its own direct port', async () => {
    const engine = new EngineProcess({ entry: '/app/out/main/engine.js', args: ['--runs-dir=/runs'], onRestart: () => {} });
    const early = new FakeWebContents();
    // Asked before the engine serves: connected once it does.
    engine.connect(early as unknown as WebContents);
    expect(early.posted).toHaveLength(0);
    await engine.start();
    expect(fake.children.map((c) => [c.entry, c.args])).toEqual([['/app/out/main/engine.js', ['--runs-dir=/runs']]]);
    await until('the waiting window to get a port', () => early.posted.length === 1);
    const late = new FakeWebContents();
    engine.connect(late as unknown as WebContents);
    expect(late.posted).toHaveLength(1);
    expect(late.posted[0].ports[0]).not.toBe(early.posted[0].ports[0]);
    for (const contents of [early, late]) {
      const reply = await windowClient(contents).call('backendInfo', {});
      expect(reply.ok && reply.result.chosen).toBe('cpu');
    }
  });

  it('restarts a dead engine, resumes the run that was training, and tells the window', async () => {
    const notices: EngineNotice[] = [];
    const contents = new FakeWebContents();
    const engine: EngineProcess = new EngineProcess({
      entry: 'engine.js',
      args: [],
      onRestart: (notice) => {
        notices.push(notice);
        engine.connect(contents as unknown as WebContents, notice);
      },
      log: () => {},
    });
    await engine.start();
    engine.connect(contents as unknown as WebContents);
    const client = windowClient(contents);
    const started = await client.call('startTraining', { config: { model: { id: 'tiny', overrides: {} }, dataset: 'synthetic', epochs: 500 } });
    if (!started.ok) throw new Error(started.error.message);
    const { runDir } = started.result;
    await until('a checkpoint', () => existsSync(path.join(runDir, 'checkpoint.json')));

    fake.children[0].kill(137);
    await until('the restart notice', () => notices.length === 1);
    expect(fake.children).toHaveLength(2);
    expect(notices[0]).toMatchObject({ type: 'engine-restarted', reason: 'the engine process exited (code 137)', resumeErrors: [] });
    const resumed = notices[0].type === 'engine-restarted' ? notices[0].resumed : [];
    expect(resumed.map((r) => r.runDir)).toEqual([runDir]);
    // The window got a new port, with the notice (the preload fails what was in flight on the old one).
    expect(contents.posted.at(-1)?.message).toEqual({ notice: notices[0] });
    const fresh = windowClient(contents);
    const state = await fresh.call('pauseTraining', { runId: resumed[0].runId });
    expect(state).toEqual({ ok: true, result: { runId: resumed[0].runId, state: 'paused' } });
  });

  it('gives up after repeated deaths and says the engine is unavailable', async () => {
    const notices: EngineNotice[] = [];
    const engine = new EngineProcess({ entry: 'engine.js', args: [], onRestart: (n) => notices.push(n), log: () => {} });
    await engine.start();
    for (let i = 0; i <= MAX_RESTARTS; i++) {
      const before = fake.children.length;
      fake.children.at(-1)!.kill(1);
      await until('the next notice', () => notices.length === i + 1);
      if (i < MAX_RESTARTS) expect(fake.children.length).toBe(before + 1);
    }
    expect(fake.children).toHaveLength(MAX_RESTARTS + 1);
    expect(notices.at(-1)).toMatchObject({ type: 'engine-unavailable', reason: expect.stringMatching(/not restarted again/) });
    const contents = new FakeWebContents();
    engine.connect(contents as unknown as WebContents);
    expect(contents.posted).toEqual([{ channel: 'engine:port', message: { notice: notices.at(-1) }, ports: [] }]);
  });

  it('asks the engine to shut down (runs checkpoint) when the app quits', async () => {
    const shutdown = vi.fn();
    fake.onFork = (child) => {
      serveInUtilityProcess(child.childPort as unknown as ParentPort, createLabHandlers({ runsDir: dir, signal: engines.signal }), {
        onShutdown: () => {
          shutdown();
          child.kill(0);
        },
      });
    };
    const engine = new EngineProcess({ entry: 'engine.js', args: [], onRestart: () => {} });
    await engine.start();
    await engine.stop();
    expect(shutdown).toHaveBeenCalledTimes(1);
    expect(fake.children).toHaveLength(1);
  });
});
