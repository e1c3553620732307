// Stopping a training run from outside, in real processes: SIGTERM to the web host's engine child while its
// IPC channel closes (what Ctrl-C on `convscope serve` does) and SIGTERM to `convscope train`. Either way
// the run writes its stop checkpoint and a final status.json, and leaves no temporary file.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineClient, type Packet, type PacketPort } from '../../src-main/contract';
import { readCheckpointFile } from '../../src-main/engine/train/checkpoint-file';
import type { CheckpointMeta } from '../../src-main/engine/train/trainer';
import { EngineProcess } from '../../src-main/web/engine-process';
import { CLI_BIN } from '../cli/run-cli';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-stop-signals-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** status.json, the checkpoint's step and any temporary files left in the run folder. */
async function runOutcome(runDir: string) {
  const status = JSON.parse(await readFile(path.join(runDir, 'status.json'), 'utf8')) as { state: string; globalStep: number };
  const checkpoint = await readCheckpointFile<CheckpointMeta>(path.join(runDir, 'checkpoint.bin'));
  const partial = (await readdir(runDir)).filter((f) => f.includes('.partial-'));
  return { status, checkpointStep: checkpoint?.meta.position.globalStep ?? null, partial };
}

const CONFIG = { model: { id: 'lenet5', overrides: { width: 0.5 } }, dataset: 'mnist', limit: 4000, testLimit: 100, epochs: 20, batchSize: 8, backend: 'cpu' as const, checkpointEverySeconds: 3600 };

describe('a stop from outside writes the stop checkpoint and a final status', () => {
  it('web host engine child: SIGTERM while the IPC channel closes under a subscribed client', async () => {
    const logs: string[] = [];
    const engine = new EngineProcess({ runsDir: path.join(scratch, 'serve-runs'), backend: 'cpu', log: (l) => logs.push(l) });
    const listeners = new Set<(m: unknown) => void>();
    const conn = engine.connect({ onPacket: (p) => listeners.forEach((l) => l(p)), onEngineLost: (n) => logs.push(`lost: ${n.reason}`) });
    const port: PacketPort = { postMessage: (p: Packet) => conn.send(p), onMessage: (l) => (listeners.add(l), () => listeners.delete(l)), onClose: () => () => undefined };
    const client = new EngineClient(port);
    const started = await client.call('startTraining', { config: CONFIG });
    if (!started.ok) throw new Error(started.error.message);
    let step = 0;
    const sub = await client.subscribe('subscribeRun', { runId: started.result.runId }, { onEvent: (e) => e.type === 'batches' && (step = Math.max(step, ...e.records.map((r) => r.step))), onEnd: () => undefined });
    expect(sub.ok).toBe(true);
    await until('20 steps', () => step >= 20);
    process.kill(engine.pid!, 'SIGTERM');
    await engine.stop(); // closes the channel at once; waits for the child to exit (SIGKILL after 10 s)
    client.close();
    const { status, checkpointStep, partial } = await runOutcome(started.result.runDir);
    expect(logs.join('\n')).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|Unhandled/);
    expect(status.state).toBe('stopped');
    expect(checkpointStep).toBe(status.globalStep);
    expect(checkpointStep!).toBeGreaterThanOrEqual(step);
    expect(partial).toEqual([]);
  }, 120_000);

  it('convscope train: SIGTERM stops after the step with a checkpoint, like Ctrl-C', async () => {
    const runDir = path.join(scratch, 'cli-run');
    const child = spawn(process.execPath, [CLI_BIN, 'train', '--model', 'lenet5', '--set', 'width=0.5', '--dataset', 'mnist', '--limit', '4000', '--test-limit', '100', '--epochs', '20', '--batch', '8', '--backend', 'cpu', '--out', runDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const steps = async () => (await readFile(path.join(runDir, 'batch.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    let seen = 0;
    await until('20 steps', () => (void steps().then((n) => (seen = n)), seen >= 20));
    child.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/stopped; continue with: convscope train --resume/);
    const { status, checkpointStep, partial } = await runOutcome(runDir);
    expect(status.state).toBe('stopped');
    expect(checkpointStep).toBe(status.globalStep);
    expect(checkpointStep!).toBeGreaterThanOrEqual(20);
    expect(partial).toEqual([]);
  }, 120_000);
});
