// The crucial property: a seeded run killed with SIGKILL resumes from its last checkpoint and its later
// losses are those of an uninterrupted run of the same seed (bit for bit on cpu).
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readRun, type BatchRecord, type EpochRecord } from '../../src-main/engine/train';

const child = new URL('./train-kill-child.ts', import.meta.url).pathname;

function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const losses = (b: BatchRecord[]) => b.map((r) => r.loss);
const epochFigures = (e: EpochRecord[]) => e.map(({ loss, accuracy, testLoss, testAccuracy, examples }) => ({ loss, accuracy, testLoss, testAccuracy, examples }));

// 256 examples / batch 16 = 16 steps per epoch, 2 epochs; checkpoints every 4 steps and at epoch ends.
describe.each([
  // cpu: pure JS, deterministic: exact equality.
  { backend: 'cpu', killAfter: 11, tolerance: 0, threads: [] as string[], wholeThreads: [] as string[] },
  // wasm on every core (the default): same kernels, same order; the tolerance is stated, equality is what we see.
  { backend: 'wasm', killAfter: 22, tolerance: 1e-6, threads: [], wholeThreads: [] },
  // wasm on 2 threads, killed and resumed, against an uninterrupted run on 1 thread: XNNPACK splits each
  // operation's outputs between threads (never a sum), so the run is the same bit for bit.
  { backend: 'wasm', killAfter: 13, tolerance: 0, threads: ['--threads', '2'], wholeThreads: ['--threads', '1'] },
  // data-parallel on 3 ways (16-example batches: uneven slices), killed and resumed on 3 ways, against an
  // uninterrupted run on 3 ways: the gradients are added in slice order, so the run is the same bit for bit.
  { backend: 'wasm', killAfter: 10, tolerance: 0, threads: ['--data-parallel', '3'], wholeThreads: ['--data-parallel', '3'], resumeArgs: ['--data-parallel', '3'] },
])('resume after SIGKILL on $backend $threads', ({ backend, killAfter, tolerance, threads, wholeThreads, resumeArgs = [] }) => {
  it(`continues after step ${killAfter} with the losses of an uninterrupted run`, async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'convscope-resume-'));
    const whole = path.join(parent, 'whole');
    const killed = path.join(parent, 'killed');
    const [a, b] = await Promise.all([runChild([whole, backend, ...wholeThreads]), runChild([killed, backend, ...threads, '--kill-after', String(killAfter)])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.signal, b.stderr).toBe('SIGKILL');

    const beforeResume = await readRun(killed);
    expect(beforeResume.status?.state).toBe('running');
    expect(beforeResume.batches.at(-1)!.step).toBe(killAfter);
    // A writer killed mid-checkpoint leaves only its temporary file: resume must ignore it.
    const torn = path.join(killed, 'checkpoint.bin.partial-99999-deadbeef');
    await writeFile(torn, Buffer.from('CSCKPT01 torn'));

    const c = await runChild([killed, backend, '--resume', ...resumeArgs]);
    expect(c.code, c.stderr).toBe(0);
    expect(existsSync(torn)).toBe(false);

    const ref = await readRun(whole);
    const resumed = await readRun(killed);
    const command = JSON.parse(await readFile(path.join(killed, 'command.json'), 'utf8'));
    if (resumeArgs.length > 0) expect([command.backend.dataParallel, command.resumes[0].backend.dataParallel]).toEqual([3, 3]);
    const fromStep: number = command.resumes[0].fromStep;
    // the last checkpoint before the kill (every 4 steps)
    expect(fromStep).toBe(Math.floor(killAfter / 4) * 4);
    expect(resumed.status?.state).toBe('finished');
    expect(resumed.batches.map((r) => r.step)).toEqual(ref.batches.map((r) => r.step));
    expect(resumed.batches).toHaveLength(32);
    if (tolerance === 0) {
      expect(losses(resumed.batches)).toEqual(losses(ref.batches));
      expect(epochFigures(resumed.epochs)).toEqual(epochFigures(ref.epochs));
    } else {
      losses(resumed.batches).forEach((l, i) => expect(Math.abs(l - ref.batches[i].loss)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(l))));
    }
    // the run did learn something and dropout was on (losses differ from step to step)
    expect(ref.epochs[1].loss).toBeLessThan(ref.epochs[0].loss);
    // the kernel snapshots after the checkpoint were retaken, none lost or doubled
    const index = JSON.parse(await readFile(path.join(killed, 'kernels', 'index.json'), 'utf8'));
    expect(index.snapshots.map((s: { step: number }) => s.step)).toEqual([0, 8, 16, 24, 32]);
    expect(readdirSync(path.join(killed, 'kernels')).filter((f) => f.endsWith('.f32'))).toHaveLength(5);
    if (tolerance === 0) {
      // and hold the same kernels, byte for byte
      for (const f of readdirSync(path.join(whole, 'kernels')).filter((f) => f.endsWith('.f32'))) {
        expect((await readFile(path.join(killed, 'kernels', f))).equals(await readFile(path.join(whole, 'kernels', f))), f).toBe(true);
      }
      expect(JSON.parse(await readFile(path.join(killed, 'config.json'), 'utf8')).threads).toBe(threads[0] === '--threads' ? 2 : null);
    }
  });
});
