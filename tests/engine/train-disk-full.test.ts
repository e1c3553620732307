// A disk that fills up during training (ENOSPC injected into node:fs in a real child process, see
// train-enospc-child.ts): one line naming the folder and ENOSPC, status.json "stopped" / "disk full", the
// last checkpoint intact and no temporary file left, and the run resumes to the end once there is room.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../../src-main/engine/train';

const exec = promisify(execFile);
const CHILD = new URL('./train-enospc-child.ts', import.meta.url).pathname;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'convscope-disk-full-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function child(args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', CHILD, ...args], { timeout: 90_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('disk full while training', () => {
  it('stops with one line naming the folder and ENOSPC, says so in status.json, and resumes', async () => {
    const runDir = path.join(scratch, 'run');
    // Steps 1-4 and the checkpoint at step 4 are written; the disk is full from step 6 on.
    const failed = await child([runDir, '--full-after', '6']);
    expect(failed).toMatchObject({ name: 'DiskFullError', code: 'disk-full' });
    expect(failed.message).toBe(`disk full (ENOSPC) writing to ${runDir}: the run stopped; its checkpoint at step 4 is intact: free some space, then resume it (convscope train --resume ${runDir})`);
    const status = JSON.parse(await readFile(path.join(runDir, 'status.json'), 'utf8'));
    expect(status).toMatchObject({ state: 'stopped', message: 'disk full' });
    expect((await readdir(runDir)).filter((f) => f.includes('.partial-'))).toEqual([]);

    const resumed = await child([runDir, '--resume']);
    expect(resumed).toEqual({ state: 'finished', epochs: 2 });
    const run = await readRun(runDir);
    expect(run.status?.state).toBe('finished');
    expect(run.batches.map((b) => b.step)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  }, 120_000);

  it('a disk already full when the run folder is made: one line, nothing to resume', async () => {
    const runDir = path.join(scratch, 'run-full');
    const failed = await child([runDir, '--full-at-start']);
    expect(failed).toMatchObject({ name: 'DiskFullError', code: 'disk-full' });
    expect(failed.message).toBe(`disk full (ENOSPC) writing to ${runDir}: the run stopped; no checkpoint was written yet: free some space and start the run again`);
  }, 60_000);
});
