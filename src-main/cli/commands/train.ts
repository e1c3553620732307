import path from 'node:path';
import { choiceFlag, intFlag, numberFlag, parseFlags, THREADS_HELP, threadsFlag } from '../args';
import { UsageError } from '../errors';
import { bar, eta, StatusLine } from '../progress';
import { parseOverrides, modelIds } from '../../engine/models';
import { ConvscopeError } from '../../engine/errors';
import { AUGMENT_KINDS, defaultConfig, defaultOptimizer, DivergedError, LOSS_KINDS, PAPER_PLATEAU, resumeRun, startRun, type Progress, type TrainConfig, type Trainer } from '../../engine/train';

const ZOO_IDS = modelIds().join(', ');

export const HELP = `usage: convscope train --model ID --dataset NAME [options]
       convscope train --resume RUN_DIR [--from-previous] [--backend B] [--threads N] [--data-parallel W] [--json]

Trains a model and writes a run folder (config, metrics, kernel snapshots, layer statistics, checkpoints).
  --model ID              ${ZOO_IDS}
  --set key=value         a model option, repeatable (e.g. --set width=0.25 --set input=67x67x3)
  --dataset NAME          mnist, fashion-mnist or folder:PATH (one sub-folder of images per class)
  --epochs N              default 1
  --batch N               default 64
  --optimizer sgd|adam    default adam
  --lr X                  default 0.001 for adam, 0.01 for sgd
  --momentum X            sgd only, default 0.9
  --weight-decay X        default 0.0005 for sgd (the paper's), 0 for adam
  --schedule constant|plateau   plateau: divide the rate by 10 when test error stops improving (at most 3 times)
  --activation A          relu, tanh or sigmoid (the model option 'activation')
  --dropout P             the model option 'dropout'
  --limit N               train on the first N training examples
  --test-limit N          evaluate on the first N test examples
  --preprocess P          raw, scale (default), mean-pixel or mean-image
  --augment A             folder datasets: none (default), crop-mirror (a random input-size crop of the
                          stored image per example and epoch, mirrored half the time) or paper (crop-mirror
                          plus the paper's PCA colour jitter); evaluation uses the centre crop
  --stored-size S         folder datasets: store images at S x S (default: the input size without
                          augmentation, else round(input * 256 / 224), 256 for inputs 224-227)
  --loss L                logits (default: exact softmax cross-entropy) or keras-clipped (Keras 2.2's, as the
                          seed's notebooks trained: probabilities clipped to [1e-7, 1-1e-7])
  --backend B             auto (default: the fastest that works), gpu, webgpu, node, wasm or cpu
  --threads N             ${THREADS_HELP};
                          the losses are the same for every count
  --data-parallel W       wasm: train on W slices of each batch at once, one thread each (the main thread and
                          W-1 workers, the backend then on 1 thread), gradients added in slice order; the
                          losses equal 1 thread's to about 1e-6 relative; not for batch-normalised models
  --seed N                default 1; the same seed gives the same run
  --out DIR               the run folder (default runs/<timestamp>-<model>)
  --checkpoint-every N    also checkpoint every N steps (default: after every epoch and every 5 minutes)
  --no-previous-checkpoint
                          keep only the latest checkpoint (default: the one before it too, as
                          checkpoint.prev.bin, to resume from if the latest is damaged; twice the disk)
  --resume RUN_DIR        continue a run from its last checkpoint
  --from-previous         with --resume: from the checkpoint before the last (when the last is damaged)
  --json                  print {backend, runDir, epochs:[...]} on stdout at the end
Progress goes to stderr. Ctrl-C stops after the current step with a checkpoint (resume with --resume).`;

export const OPTIONS = {
  model: { type: 'string' },
  set: { type: 'string', multiple: true },
  dataset: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  activation: { type: 'string' },
  dropout: { type: 'string' },
  limit: { type: 'string' },
  'test-limit': { type: 'string' },
  preprocess: { type: 'string' },
  augment: { type: 'string' },
  'stored-size': { type: 'string' },
  loss: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  'data-parallel': { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  'no-previous-checkpoint': { type: 'boolean' },
  resume: { type: 'string' },
  'from-previous': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export type Values = ReturnType<typeof parseFlags<typeof OPTIONS>>['values'];

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (values['from-previous'] && values.resume === undefined) throw new UsageError('--from-previous applies to --resume RUN_DIR only');
  let trainer: Trainer;
  const dataParallel = threadsFlag(values['data-parallel'], 'data-parallel');
  if (values.resume !== undefined) {
    const extra = Object.keys(values).filter((k) => !['resume', 'from-previous', 'json', 'backend', 'threads', 'data-parallel'].includes(k));
    if (extra.length > 0) throw new UsageError(`--resume continues a run with its saved settings; it takes only --from-previous, --backend, --threads, --data-parallel and --json, not --${extra[0]}`);
    trainer = await resumeRun(values.resume, { backend: values.backend, threads: threadsFlag(values.threads), dataParallel, argv: process.argv, fromPrevious: values['from-previous'] === true });
  } else {
    const { config, runDir } = configFromFlags(values);
    trainer = await startRun(config, { runDir, argv: process.argv, dataParallel });
  }
  for (const warning of trainer.warnings) process.stderr.write(`warning: ${warning}\n`);
  const ways = dataParallel !== undefined && dataParallel > 1 ? `, data-parallel on ${dataParallel} threads` : '';
  process.stderr.write(`run folder: ${trainer.runDir} (backend ${trainer.backend}${ways})\n`);

  const status = new StatusLine(process.stderr);
  trainer.on((event) => {
    if (event.type === 'progress') status.update(progressText(event.progress), event.progress.fraction, event.progress.batch === event.progress.batchesPerEpoch);
    if (event.type === 'epoch') {
      const e = event.record;
      const test = e.testAccuracy === null ? '' : `, test loss ${e.testLoss!.toFixed(4)}, test accuracy ${e.testAccuracy.toFixed(4)}`;
      status.line(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, accuracy ${e.accuracy.toFixed(4)}${test}, ${e.seconds.toFixed(1)} s, ${Math.round(e.imagesPerSecond)} images/s`);
    }
  });
  const onSigint = () => {
    status.line('stopping after this step (a checkpoint is written; continue with --resume)');
    trainer.stop();
  };
  // Ctrl-C, or SIGTERM from a process manager: both stop after the step with a checkpoint.
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    const result = await trainer.run();
    status.done();
    if (values.json) {
      const epochs = result.epochs.map(({ loss, accuracy, testLoss, testAccuracy, seconds, imagesPerSecond }) => ({ loss, accuracy, testLoss, testAccuracy, seconds, imagesPerSecond }));
      process.stdout.write(JSON.stringify({ backend: result.backend, runDir: result.runDir, state: result.state, epochs }, null, 2) + '\n');
    } else {
      process.stdout.write(`${result.state}: ${result.runDir}\n`);
    }
    if (result.state === 'stopped') {
      process.stderr.write(`stopped; continue with: convscope train --resume ${result.runDir}\n`);
      return 130;
    }
    return 0;
  } catch (err) {
    status.done();
    if (err instanceof DivergedError) throw new ConvscopeError(`${err.message}; run folder ${trainer.runDir}`, err.code);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    trainer.dispose();
  }
}

export function configFromFlags(values: Values): { config: TrainConfig; runDir: string | undefined } {
  if (!values.model) throw new UsageError(`--model is required (${ZOO_IDS})`);
  if (!values.dataset) throw new UsageError('--dataset is required (mnist, fashion-mnist or folder:PATH)');
  const config = defaultConfig(values.model, values.dataset);
  const overrides: Record<string, string> = parseOverrides(values.set ?? []);
  for (const key of ['activation', 'dropout'] as const) {
    const value = values[key];
    if (value === undefined) continue;
    if (key in overrides) throw new UsageError(`--${key} and --set ${key}=... both given; use one`);
    overrides[key] = value;
  }
  config.model.overrides = overrides;
  const kind = choiceFlag('optimizer', values.optimizer, ['sgd', 'adam'] as const, 'adam');
  if (kind === 'adam' && values.momentum !== undefined) throw new UsageError('--momentum applies to --optimizer sgd only');
  config.optimizer = defaultOptimizer(kind, {
    lr: values.lr === undefined ? undefined : numberFlag('lr', values.lr, 0),
    momentum: values.momentum === undefined ? undefined : numberFlag('momentum', values.momentum, 0),
    weightDecay: values['weight-decay'] === undefined ? undefined : numberFlag('weight-decay', values['weight-decay'], 0),
  });
  if (config.optimizer.kind === 'sgd' && config.optimizer.momentum >= 1) throw new UsageError(`--momentum must be below 1, got ${values.momentum}`);
  config.schedule = choiceFlag('schedule', values.schedule, ['constant', 'plateau'] as const, 'constant') === 'plateau' ? PAPER_PLATEAU : { kind: 'constant' };
  config.epochs = intFlag('epochs', values.epochs, config.epochs);
  config.batchSize = intFlag('batch', values.batch, config.batchSize);
  config.limit = values.limit === undefined ? null : intFlag('limit', values.limit, 0);
  config.testLimit = values['test-limit'] === undefined ? null : intFlag('test-limit', values['test-limit'], 0);
  config.preprocess = choiceFlag('preprocess', values.preprocess, ['raw', 'scale', 'mean-pixel', 'mean-image'] as const, 'scale');
  config.loss = choiceFlag('loss', values.loss, LOSS_KINDS, 'logits');
  config.augment = choiceFlag('augment', values.augment, AUGMENT_KINDS, 'none');
  config.storedSize = values['stored-size'] === undefined ? null : intFlag('stored-size', values['stored-size'], 0);
  config.backend = values.backend ?? config.backend;
  config.threads = threadsFlag(values.threads) ?? null;
  config.seed = intFlag('seed', values.seed, config.seed, 0);
  config.checkpointEverySteps = intFlag('checkpoint-every', values['checkpoint-every'], config.checkpointEverySteps);
  config.keepPreviousCheckpoint = values['no-previous-checkpoint'] !== true;
  return { config, runDir: values.out === undefined ? undefined : path.resolve(values.out) };
}

function progressText(p: Progress): string {
  return `epoch ${p.epoch}/${p.epochs} ${bar(p.batch / p.batchesPerEpoch)} ${p.batch}/${p.batchesPerEpoch} loss ${p.loss.toFixed(4)} ${Math.round(p.imagesPerSecond)} images/s ETA ${eta(p.etaSeconds)}`;
}
