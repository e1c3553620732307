// Child process for the augmented resume test: trains an augmented run on an image folder and, with
// --kill-after K, SIGKILLs itself right after step K's metrics are written (no cleanup, no flush).
// The image cache goes where XDG_CACHE_HOME (set by the parent) says.
// usage: node --import tsx train-augment-child.ts RUN_DIR FOLDER [--kill-after K] [--resume]
import { defaultConfig, resumeRun, startRun, type TrainConfig } from '../../src-main/engine/train';

const [runDir, folder, ...rest] = process.argv.slice(2);
const killAfter = rest.includes('--kill-after') ? Number(rest[rest.indexOf('--kill-after') + 1]) : null;
const config: TrainConfig = {
  ...defaultConfig('lenet5', `folder:${folder}`),
  model: { id: 'lenet5', overrides: { input: '16x16x3', width: 0.5, dropout: 0.3, activation: 'relu' } },
  augment: 'paper',
  preprocess: 'mean-image',
  backend: 'cpu',
  batchSize: 8,
  epochs: 2,
  seed: 3,
  checkpointEverySteps: 2,
  statsEvery: 4,
  snapshotEvery: 4,
  probeSize: 3,
};
const trainer = rest.includes('--resume') ? await resumeRun(runDir) : await startRun(config, { runDir });
trainer.on((event) => {
  if (event.type === 'batch' && event.record.step === killAfter) process.kill(process.pid, 'SIGKILL');
});
await trainer.run();
