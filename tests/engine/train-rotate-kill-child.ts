// Child process for the previous-checkpoint test: trains the synthetic resume run (cpu) and, with --kill-at-rotation
// N, SIGKILLs itself right after the Nth time a checkpoint write renamed checkpoint.bin to checkpoint.prev.bin,
// before the new checkpoint is renamed into place (injected into node:fs itself, so the engine's own write path
// meets it). usage: node --import tsx train-rotate-kill-child.ts RUN_DIR [--kill-at-rotation N] [--resume]
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { resumeRun, startRun } from '../../src-main/engine/train';
import { bandData } from './train-synthetic';
import { resumeTestConfig } from './train-resume-config';

const [runDir, ...rest] = process.argv.slice(2);
const killAt = rest.includes('--kill-at-rotation') ? Number(rest[rest.indexOf('--kill-at-rotation') + 1]) : null;
if (killAt !== null) {
  const { rename } = fsp;
  let rotations = 0;
  fsp.rename = (async (from: string, to: string) => {
    await rename(from, to);
    if (String(to).endsWith('checkpoint.prev.bin') && ++rotations === killAt) process.kill(process.pid, 'SIGKILL');
  }) as typeof fsp.rename;
  syncBuiltinESMExports();
}
const data = { data: bandData(256, 64), preprocess: { kind: 'synthetic' }, warnings: [] };
const trainer = rest.includes('--resume') ? await resumeRun(runDir, { data }) : await startRun(resumeTestConfig('cpu'), { runDir, data });
const result = await trainer.run();
console.log(JSON.stringify({ state: result.state }));
