// An augmented run (random crops, mirrors, PCA colour jitter, on an image folder) killed with SIGKILL
// resumes from its last checkpoint, augmentation state included, and repeats the uninterrupted run's
// losses exactly on cpu.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readRun } from '../../src-main/engine/train';
import { makeNoiseFolder } from './train-augment-folder';

const child = new URL('./train-augment-child.ts', import.meta.url).pathname;

function runChild(args: string[], cacheHome: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('resume of an augmented run after SIGKILL (cpu)', () => {
  it('replays the steps after the checkpoint with the same crops and colour shifts', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'convscope-augment-resume-'));
    const folder = path.join(parent, 'images');
    await makeNoiseFolder(folder, 10);
    const cache = path.join(parent, 'cache');
    const whole = path.join(parent, 'whole');
    const killed = path.join(parent, 'killed');
    // 27 training images, batch 8: 4 steps per epoch, 8 in all; checkpoints every 2 steps. Killed after
    // step 7, the run resumes from step 6, in the middle of epoch 2.
    const [a, b] = await Promise.all([runChild([whole, folder], cache), runChild([killed, folder, '--kill-after', '7'], cache)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.signal, b.stderr).toBe('SIGKILL');
    const c = await runChild([killed, folder, '--resume'], cache);
    expect(c.code, c.stderr).toBe(0);

    const command = JSON.parse(await readFile(path.join(killed, 'command.json'), 'utf8'));
    expect(command.resumes[0].fromStep).toBe(6);
    const ref = await readRun(whole);
    const resumed = await readRun(killed);
    expect(resumed.status?.state).toBe('finished');
    expect(ref.batches).toHaveLength(8);
    expect(resumed.batches.map((r) => r.loss)).toEqual(ref.batches.map((r) => r.loss));
    expect(resumed.epochs.map((e) => [e.loss, e.testLoss])).toEqual(ref.epochs.map((e) => [e.loss, e.testLoss]));
  });
});
