// The checkpoint before the latest (checkpoint.prev.bin): a damaged latest is refused by name, offering the intact
// previous one; resume --from-previous repeats the uninterrupted run from that step; a writer killed between its
// two renames (the old checkpoint moved aside, the new one not yet in place) leaves a run that resumes.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun, resumeRun, startRun, type BatchRecord, type Trainer } from '../../src-main/engine/train';
import { resolveModel } from '../../src-main/engine/inspect/model-ref';
import { readCheckpointFile } from '../../src-main/engine/train/checkpoint-file';
import type { CheckpointMeta } from '../../src-main/engine/train/trainer';
import { bandData } from './train-synthetic';
import { resumeTestConfig } from './train-resume-config';

const exec = promisify(execFile);
const CHILD = new URL('./train-rotate-kill-child.ts', import.meta.url).pathname;
// A valid stored preprocessor (inspection reads it); the data is made already, so training never uses it.
const preprocess = { version: 1, kind: 'scale', shape: [16, 16, 1], mean: [], scale: 1 / 255, fittedOn: null };
const data = () => ({ data: bandData(256, 64), preprocess, warnings: [] });
const losses = (b: BatchRecord[]) => b.map((r) => [r.step, r.loss]);

async function finish(trainer: Trainer, stopAfter?: number): Promise<string> {
  if (stopAfter) trainer.on((e) => void (e.type === 'batch' && e.record.step === stopAfter && trainer.stop()));
  try {
    return (await trainer.run()).state;
  } finally {
    trainer.dispose();
  }
}
const stepOf = async (file: string) => (await readCheckpointFile<CheckpointMeta>(file))?.meta.position.globalStep;

let scratch: string;
let reference: BatchRecord[];
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-prev-ckpt-'));
  const whole = path.join(scratch, 'whole');
  await finish(await startRun(resumeTestConfig('cpu'), { runDir: whole, data: data() }));
  reference = (await readRun(whole)).batches;
  expect(reference).toHaveLength(32);
}, 60_000);
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('the previous checkpoint', () => {
  it('a damaged latest is refused by name, offering the previous; --from-previous repeats the run from its step', async () => {
    const runDir = path.join(scratch, 'damaged');
    // Checkpoints every 4 steps; stopped after step 11: the latest is the stop checkpoint (11), the previous 8.
    expect(await finish(await startRun(resumeTestConfig('cpu'), { runDir, data: data() }), 11)).toBe('stopped');
    const latest = path.join(runDir, 'checkpoint.bin');
    const previous = path.join(runDir, 'checkpoint.prev.bin');
    expect([await stepOf(latest), await stepOf(previous)]).toEqual([11, 8]);
    // Inspection reads either kept checkpoint by its step.
    for (const step of [11, 8]) {
      const resolved = await resolveModel(runDir, { checkpoint: step });
      expect(resolved.source).toMatchObject({ kind: 'run', from: 'checkpoint', step });
      resolved.model.dispose();
    }
    await expect(resolveModel(runDir, { checkpoint: 9 })).rejects.toThrow(`${runDir} keeps checkpoints at steps 11 and 8, and its initial weights (step 0); there is no checkpoint at step 9`);
    const bytes = await readFile(latest);
    bytes.fill(0, bytes.length - 4096, bytes.length - 2048);
    await writeFile(latest, bytes);

    const refused = await resumeRun(runDir, { data: data() }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(refused?.message).toMatch(new RegExp(`^checkpoint ${latest} is corrupt: .* fails its checksum`));
    expect(refused?.message).toContain(`the previous checkpoint ${previous} (step 8) is intact: resume from it with convscope train --resume ${runDir} --from-previous`);
    expect(refused?.code).toBe('checkpoint-corrupt-previous-intact');
    // Refusing changed nothing: the logs still reach step 11.
    expect((await readRun(runDir)).batches.at(-1)?.step).toBe(11);

    expect(await finish(await resumeRun(runDir, { data: data(), fromPrevious: true }))).toBe('finished');
    const run = await readRun(runDir);
    // Cut back to step 8 and continued: the uninterrupted run's losses, bit for bit (cpu).
    expect(losses(run.batches)).toEqual(losses(reference));
    const command = JSON.parse(await readFile(path.join(runDir, 'command.json'), 'utf8'));
    expect(command.resumes.map((r: { fromStep: number }) => r.fromStep)).toEqual([8]);
    expect([await stepOf(latest), await stepOf(previous)]).toEqual([32, 32]);
  }, 60_000);

  it('--from-previous is refused while the latest is intact, and without a previous checkpoint', async () => {
    const runDir = path.join(scratch, 'intact');
    await finish(await startRun(resumeTestConfig('cpu'), { runDir, data: data() }), 6);
    await expect(resumeRun(runDir, { data: data(), fromPrevious: true })).rejects.toThrow(`${path.join(runDir, 'checkpoint.bin')} is intact (step 6); --from-previous is for a run whose latest checkpoint is damaged`);
    const single = path.join(scratch, 'single');
    await finish(await startRun({ ...resumeTestConfig('cpu'), keepPreviousCheckpoint: false }, { runDir: single, data: data() }), 6);
    expect(existsSync(path.join(single, 'checkpoint.prev.bin'))).toBe(false);
    const bytes = await readFile(path.join(single, 'checkpoint.bin'));
    bytes.fill(0, bytes.length - 64);
    await writeFile(path.join(single, 'checkpoint.bin'), bytes);
    await expect(resumeRun(single, { data: data() })).rejects.toThrow(/is corrupt: .*; no intact earlier checkpoint is kept: restore the file from a backup or start the run again$/);
    await expect(resumeRun(single, { data: data(), fromPrevious: true })).rejects.toThrow(`${single} has no previous checkpoint (checkpoint.prev.bin) to resume from`);
  }, 60_000);

  it('SIGKILL between the two renames leaves a run that resumes from the previous checkpoint', async () => {
    const runDir = path.join(scratch, 'killed');
    // Rotations: step 0's checkpoint moved aside for step 4's (1), step 4's for step 8's (2): killed there.
    await expect(exec(process.execPath, ['--import', 'tsx', CHILD, runDir, '--kill-at-rotation', '2'], { timeout: 60_000 })).rejects.toMatchObject({ signal: 'SIGKILL' });
    const names = await readdir(runDir);
    expect(names).not.toContain('checkpoint.bin');
    expect(names.filter((n) => n.startsWith('checkpoint.bin.partial-'))).toHaveLength(1);
    expect(await stepOf(path.join(runDir, 'checkpoint.prev.bin'))).toBe(4);

    const { stdout } = await exec(process.execPath, ['--import', 'tsx', CHILD, runDir, '--resume'], { timeout: 60_000 });
    expect(JSON.parse(stdout.trim())).toEqual({ state: 'finished' });
    const command = JSON.parse(await readFile(path.join(runDir, 'command.json'), 'utf8'));
    expect(command.resumes.map((r: { fromStep: number }) => r.fromStep)).toEqual([4]);
    expect(losses((await readRun(runDir)).batches)).toEqual(losses(reference));
  }, 120_000);
});
