// Child process for the resume-after-kill test: trains the synthetic run described by its arguments and,
// with --kill-after K, SIGKILLs itself right after step K's metrics are written (no cleanup, no flush).
// usage: node --import tsx train-kill-child.ts RUN_DIR BACKEND [--threads N] [--data-parallel W] [--kill-after K] [--resume]
import { startRun, resumeRun } from '../../src-main/engine/train';
import { bandData } from './train-synthetic';
import { resumeTestConfig } from './train-resume-config';

const [runDir, backend, ...rest] = process.argv.slice(2);
const killAfter = rest.includes('--kill-after') ? Number(rest[rest.indexOf('--kill-after') + 1]) : null;
const threads = rest.includes('--threads') ? Number(rest[rest.indexOf('--threads') + 1]) : null;
const dataParallel = rest.includes('--data-parallel') ? Number(rest[rest.indexOf('--data-parallel') + 1]) : undefined;
const data = { data: bandData(256, 64), preprocess: { kind: 'synthetic' }, warnings: [] };
const trainer = rest.includes('--resume') ? await resumeRun(runDir, { data, dataParallel }) : await startRun(resumeTestConfig(backend, threads), { runDir, data, dataParallel });
trainer.on((event) => {
  if (event.type === 'batch' && event.record.step === killAfter) process.kill(process.pid, 'SIGKILL');
});
await trainer.run();
