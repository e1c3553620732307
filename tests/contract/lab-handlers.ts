// A small but real engine for transport tests: one tiny CNN (3x3 conv with ReLU, global mean, two
// logits) computed by hand on PGM images, runs that "train" on a timer and write real run folders.
// Every answer is computed from the request, so a transport that garbles anything fails the tests.
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ContractError,
  datasetFolder,
  tensor,
  type EngineHandlers,
  type EpochRecord,
  type ModelRef,
  type ModelSummary,
  type Progress,
  type RunState,
  type RunStatus,
  type RunStateEvent,
  type TrainingConfig,
  type TrainingEvent,
} from '../../src-main/contract';

export interface LabOptions {
  runsDir: string;
  /** Milliseconds per training step (default 2). */
  stepMs?: number;
  /** Stops every run's timer (tests end their engines with it). */
  signal?: AbortSignal;
}

const notFound = (message: string) => new ContractError({ code: 'not-found', message });
const userError = (message: string, reason: string) => Object.assign(new Error(message), { userFacing: true, code: reason });

/** A binary PGM (P5) image: the one format the lab decodes. */
export function pgm(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header);
  out.set(pixels, header.length);
  return out;
}

function decodePgm(bytes: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, 64));
  const m = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(text);
  if (!m) throw userError('not a PGM image', 'bad-image');
  const width = Number(m[1]);
  const height = Number(m[2]);
  const pixels = bytes.subarray(m[0].length, m[0].length + width * height);
  if (pixels.length !== width * height || width < 3 || height < 3) throw userError('PGM image truncated or smaller than 3x3', 'bad-image');
  return { width, height, pixels };
}

function filtersOf(overrides: Record<string, string | number | boolean>): number {
  const f = overrides.filters ?? 2;
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 1 || f > 64) throw userError(`filters must be a whole number in [1, 64], got ${String(f)}`, 'bad-override');
  return f;
}

/** Conv kernel [3, 3, 1, filters] after `step` training steps. */
function kernel(filters: number, step = 0): Float32Array {
  return Float32Array.from({ length: 9 * filters }, (_, i) => Math.sin(i + 1) * (1 + step / 100));
}

function summaryOf(filters: number, name = 'tiny'): ModelSummary {
  const layers: ModelSummary['layers'] = [
    { name: 'conv1', type: 'Conv2D', kind: 'conv', activation: 'relu', outputShape: [null, 6, 6, filters], params: 10 * filters, trainableParams: 10 * filters },
    { name: 'gap', type: 'GlobalAveragePooling2D', kind: 'other', activation: null, outputShape: [null, filters], params: 0, trainableParams: 0 },
    { name: 'logits', type: 'Dense', kind: 'dense', activation: 'linear', outputShape: [null, 2], params: 2 * filters + 2, trainableParams: 2 * filters + 2 },
  ];
  const total = layers.reduce((n, l) => n + l.params, 0);
  return { name, layers, totalParams: total, trainableParams: total, nonTrainableParams: 0 };
}

/** conv (valid, stride 1) + ReLU of a [h, w] image: [h-2, w-2, filters]. */
function conv(x: Float32Array, h: number, w: number, k: Float32Array, filters: number): Float32Array {
  const oh = h - 2;
  const ow = w - 2;
  const out = new Float32Array(oh * ow * filters);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let f = 0; f < filters; f++) {
        let s = 0;
        for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) s += x[(y + dy) * w + xx + dx] * k[(dy * 3 + dx) * filters + f];
        out[(y * ow + xx) * filters + f] = Math.max(0, s);
      }
  return out;
}

function stats(values: Float32Array) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let zeros = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    if (v === 0) zeros++;
  }
  return { min, max, mean: sum / values.length, zeroFraction: zeros / values.length };
}

/** The lab's synthetic dataset: image i is an 8x8 ramp whose brightness grows with i; label = bright. */
function syntheticImage(i: number): Float32Array {
  return Float32Array.from({ length: 64 }, (_, p) => (((i * 37 + p * 5) % 97) / 97) * (i % 2 ? 1 : -1));
}

/** A synthetic image as stored pixels: [-1, 1] mapped to 0-255. */
export function syntheticPixels(i: number): Uint8Array {
  return Uint8Array.from(syntheticImage(i), (x) => Math.round(((x + 1) / 2) * 255));
}

interface LabRun {
  runId: string;
  runDir: string;
  config: TrainingConfig;
  state: RunState;
  step: number;
  totalSteps: number;
  batchesPerEpoch: number;
  epochs: EpochRecord[];
  progress: Progress | null;
  timer: ReturnType<typeof setInterval> | null;
  listeners: Set<(event: TrainingEvent) => void>;
}

export function createLabHandlers(options: LabOptions): EngineHandlers {
  const stepMs = options.stepMs ?? 2;
  const runs = new Map<string, LabRun>();
  const watchers = new Set<(event: RunStateEvent) => void>();
  let runCount = 0;

  async function modelFilters(ref: ModelRef): Promise<number> {
    if (ref.kind === 'zoo') {
      if (ref.id !== 'tiny') throw notFound(`no zoo model '${ref.id}' (the lab has tiny)`);
      return filtersOf(ref.overrides);
    }
    if (ref.kind === 'run') {
      const config = JSON.parse(await readFile(path.join(ref.dir, 'config.json'), 'utf8')) as TrainingConfig;
      return filtersOf(config.model.overrides);
    }
    const file = JSON.parse(await readFile(ref.path, 'utf8')) as { model: string; overrides: Record<string, number> };
    return filtersOf(file.overrides);
  }

  const setState = async (run: LabRun, state: RunState, message?: string) => {
    run.state = state;
    await writeFile(path.join(run.runDir, 'status.json'), JSON.stringify({ state, updatedAt: new Date().toISOString(), globalStep: run.step, epoch: run.epochs.length + 1 }));
    for (const l of run.listeners) l({ type: 'state', state, ...(message && { message }) });
    for (const w of watchers) w({ type: 'run-state', runId: run.runId, runDir: run.runDir, state });
  };

  options.signal?.addEventListener('abort', () => {
    for (const run of runs.values()) if (run.timer) clearInterval(run.timer);
  });

  function startLoop(run: LabRun): void {
    const size = run.config.batchSize ?? 16;
    run.timer = setInterval(() => {
      if (run.state !== 'running') return;
      run.step++;
      const record = { step: run.step, epoch: Math.ceil(run.step / run.batchesPerEpoch), batch: ((run.step - 1) % run.batchesPerEpoch) + 1, size, loss: 1 / run.step, accuracy: 1 - 1 / (run.step + 1), lr: 0.01, seconds: stepMs / 1000 };
      void appendFile(path.join(run.runDir, 'batch.jsonl'), JSON.stringify(record) + '\n').catch(() => {});
      run.progress = { step: run.step, totalSteps: run.totalSteps, epoch: record.epoch, epochs: run.config.epochs ?? 1, batch: record.batch, batchesPerEpoch: run.batchesPerEpoch, fraction: run.step / run.totalSteps, imagesPerSecond: size / (stepMs / 1000), etaSeconds: ((run.totalSteps - run.step) * stepMs) / 1000, loss: record.loss };
      for (const l of run.listeners) {
        l({ type: 'batches', records: [record] });
        l({ type: 'progress', progress: run.progress });
      }
      if (run.step % 5 === 0) void writeFile(path.join(run.runDir, 'checkpoint.json'), JSON.stringify({ step: run.step })).catch(() => {});
      if (record.batch === run.batchesPerEpoch) {
        const epoch: EpochRecord = { epoch: record.epoch, examples: size * run.batchesPerEpoch, loss: record.loss, accuracy: record.accuracy, testLoss: null, testAccuracy: null, lr: 0.01, seconds: 0.1, trainSeconds: 0.1, imagesPerSecond: record.size / (stepMs / 1000) };
        run.epochs.push(epoch);
        void appendFile(path.join(run.runDir, 'epochs.jsonl'), JSON.stringify(epoch) + '\n').catch(() => {});
        for (const l of run.listeners) l({ type: 'epoch', record: epoch });
      }
      if (run.step >= run.totalSteps) {
        clearInterval(run.timer!);
        void setState(run, 'finished').catch(() => {});
      }
    }, stepMs);
  }

  async function launch(runDir: string, config: TrainingConfig, fromStep: number): Promise<LabRun> {
    const batchesPerEpoch = Math.ceil((config.limit ?? 160) / (config.batchSize ?? 16));
    const run: LabRun = {
      runId: `run-${++runCount}`,
      runDir,
      config,
      state: 'running',
      step: fromStep,
      totalSteps: batchesPerEpoch * (config.epochs ?? 1),
      batchesPerEpoch,
      epochs: [],
      progress: null,
      timer: null,
      listeners: new Set(),
    };
    runs.set(run.runId, run);
    await setState(run, 'running');
    startLoop(run);
    return run;
  }

  const noDataset = (): never => {
    throw new ContractError({ code: 'user-error', message: 'the lab has no datasets for insight jobs', reason: 'no-dataset' });
  };

  const liveRun = (runId: string): LabRun => {
    const run = runs.get(runId);
    if (!run) throw notFound(`no live run '${runId}'`);
    return run;
  };

  return {
    listModels: () => ({
      models: [{ id: 'tiny', title: 'Tiny CNN', description: 'one 3x3 conv with ReLU, a global mean, two logits', input: [8, 8, 1], classes: 2, options: [{ key: 'filters', description: 'conv filters', accepts: 'a whole number in [1, 64]', default: 2 }] }],
    }),

    summary: async ({ model }) => summaryOf(await modelFilters(model)),

    openModel: async ({ path: file }) => {
      const ref: ModelRef = { kind: 'file', path: file };
      return { ref, format: 'lab model (JSON)', summary: summaryOf(await modelFilters(ref), path.basename(file)), input: [8, 8, 1], classNames: ['dark', 'bright'], warnings: [] };
    },

    inspect: async ({ image, model, options = {} }) => {
      if (image.kind === 'example') throw new ContractError({ code: 'user-error', message: 'the lab has no datasets to take examples from', reason: 'no-dataset' });
      const bytes = image.kind === 'bytes' ? image.data : new Uint8Array(await readFile(image.path));
      const { width: w, height: h, pixels } = decodePgm(bytes);
      const filters = await modelFilters(model);
      const k = kernel(filters);
      const x = Float32Array.from(pixels, (p) => p / 255);
      const a = conv(x, h, w, k, filters);
      const n = (h - 2) * (w - 2);
      const gap = new Float32Array(filters);
      a.forEach((v, i) => (gap[i % filters] += v / n));
      const s = gap.reduce((t, v) => t + v, 0);
      const logits = Float32Array.from([s, -s]);
      const layers = [
        { name: 'conv1', className: 'Conv2D', kind: 'conv' as const, activation: 'relu' as const, output: tensor('float32', [h - 2, w - 2, filters], a), stats: stats(a) },
        { name: 'gap', className: 'GlobalAveragePooling2D', kind: 'other' as const, activation: null, output: tensor('float32', [filters], gap), stats: stats(gap) },
        { name: 'logits', className: 'Dense', kind: 'dense' as const, activation: 'linear' as const, output: tensor('float32', [2], logits), stats: stats(logits) },
      ].filter((l) => !options.layers || options.layers.includes(l.name));
      const e = [Math.exp(s), Math.exp(-s)];
      const probs = e.map((v) => v / (e[0] + e[1]));
      const predictions = [0, 1].map((index) => ({ index, label: ['dark', 'bright'][index], prob: probs[index] })).sort((p, q) => q.prob - p.prob).slice(0, options.topK ?? 5);
      const classIndex = options.classIndex ?? predictions[0].index;
      const sign = classIndex === 0 ? 1 : -1;
      let saliency = null;
      if (options.saliency) {
        // d logit / d x: through the ReLU where it is open, the kernel tap, averaged over positions.
        const g = new Float32Array(h * w);
        for (let y = 0; y < h - 2; y++)
          for (let xx = 0; xx < w - 2; xx++)
            for (let f = 0; f < filters; f++) {
              if (a[(y * (w - 2) + xx) * filters + f] <= 0) continue;
              for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) g[(y + dy) * w + xx + dx] += (sign * k[(dy * 3 + dx) * filters + f]) / n;
            }
        saliency = { classIndex, score: 'logit' as const, map: tensor('float32', [h, w], g.map(Math.abs)) };
      }
      let gradCam = null;
      if (options.gradCam) {
        const cam = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let t = 0;
          for (let f = 0; f < filters; f++) t += (sign / n) * a[i * filters + f];
          cam[i] = Math.max(0, t);
        }
        const up = Float32Array.from({ length: h * w }, (_, i) => cam[Math.min(h - 3, Math.floor(i / w)) * (w - 2) + Math.min(w - 3, i % w)]);
        gradCam = { layer: 'conv1', classIndex, score: 'logit' as const, map: tensor('float32', [h - 2, w - 2], cam), upsampled: tensor('float32', [h, w], up) };
      }
      return { input: tensor('float32', [h, w, 1], x), image: { width: w, height: h, channels: 1 }, layers, predictions, classNames: ['dark', 'bright'], saliency, gradCam };
    },

    kernels: async ({ model, layer }) => {
      if (layer !== undefined && layer !== 'conv1') throw notFound(`no conv layer '${layer}' (the model has conv1)`);
      const filters = await modelFilters(model);
      return { layers: [{ layer: 'conv1', kernel: tensor('float32', [3, 3, 1, filters], kernel(filters)) }] };
    },

    kernelTimeline: async ({ runDir, layer, snapshot }) => {
      if (layer !== 'conv1') throw notFound(`no conv layer '${layer}' (the snapshots have conv1)`);
      const filters = await modelFilters({ kind: 'run', dir: runDir });
      const steps = [0, 10, 20, 30];
      const index = snapshot ?? steps.length - 1;
      if (index >= steps.length) throw notFound(`snapshot ${index} does not exist (0 to ${steps.length - 1})`);
      const norms = new Float32Array(steps.length * filters);
      steps.forEach((step, s) => kernel(filters, step).forEach((v, i) => (norms[s * filters + (i % filters)] += v * v)));
      const chosen = kernel(filters, steps[index]);
      const first = kernel(filters, 0);
      return {
        layer,
        layers: ['conv1'],
        snapshots: steps.map((step, i) => ({ index: i, step, epoch: 1 })),
        norms: tensor('float32', [steps.length, filters], norms.map(Math.sqrt)),
        snapshot: { index, step: steps[index], epoch: 1 },
        kernel: tensor('float32', [3, 3, 1, filters], chosen),
        difference: tensor('float32', [3, 3, 1, filters], chosen.map((v, i) => v - first[i])),
      };
    },

    deadRelu: async ({ model, dataset, probeSize }) => {
      const filters = await modelFilters(model);
      const k = kernel(filters);
      const size = probeSize ?? 16;
      const dead = new Float32Array(filters);
      for (let i = 0; i < size; i++) {
        const a = conv(syntheticImage(i), 8, 8, k, filters);
        for (let f = 0; f < filters; f++) {
          let alive = false;
          for (let p = f; p < a.length; p += filters) alive ||= a[p] > 0;
          if (!alive) dead[f] += 1 / size;
        }
      }
      return { dataset: dataset ?? 'synthetic', probeSize: size, layers: [{ layer: 'conv1', channels: filters, deadFraction: dead, dead: [...dead.keys()].filter((f) => dead[f] >= 1 - 1e-6) }] };
    },

    evaluate: async ({ model, dataset, split, limit }, { signal }) => {
      if (dataset !== 'synthetic') throw userError(`the lab has no dataset '${dataset}'`, 'unknown-dataset');
      const filters = await modelFilters(model);
      const k = kernel(filters);
      const examples = limit ?? 20;
      const predicted = new Int32Array(examples);
      const labels = new Int32Array(examples);
      const confusion = new Uint32Array(4);
      for (let i = 0; i < examples; i++) {
        signal.throwIfAborted();
        const s = conv(syntheticImage(i), 8, 8, k, filters).reduce((t, v) => t + v, 0);
        predicted[i] = s > 0 ? 0 : 1;
        labels[i] = i % 2;
        confusion[labels[i] * 2 + predicted[i]]++;
      }
      const accuracy = (confusion[0] + confusion[3]) / examples;
      return { dataset, split: split ?? 'test', examples, classNames: ['dark', 'bright'], accuracy, top1Error: 1 - accuracy, top5Error: null, confusion: tensor('uint32', [2, 2], confusion), predicted, labels, shape: [8, 8, 1] };
    },

    examples: async ({ model, dataset = 'synthetic', split, indices }) => {
      if (dataset !== 'synthetic') throw userError(`the lab has no dataset '${dataset}'`, 'unknown-dataset');
      await modelFilters(model);
      const images = new Uint8Array(indices.length * 64);
      indices.forEach((index, n) => images.set(syntheticPixels(index), n * 64));
      return { dataset, split, images: tensor('uint8', [indices.length, 8, 8, 1], images), labels: Int32Array.from(indices, (i) => i % 2), classNames: ['dark', 'bright'] };
    },

    startTraining: async ({ config }) => {
      const folder = datasetFolder(config.dataset);
      if (config.dataset !== 'synthetic' && !(folder && existsSync(folder))) throw userError(`dataset ${config.dataset} is not available`, 'dataset-missing');
      filtersOf(config.model.overrides);
      const runDir = path.join(options.runsDir, `run-${runCount + 1}-${config.model.id}`);
      await mkdir(runDir, { recursive: true });
      await writeFile(path.join(runDir, 'config.json'), JSON.stringify(config));
      const run = await launch(runDir, config, 0);
      return { runId: run.runId, runDir };
    },

    pauseTraining: async ({ runId }) => {
      const run = liveRun(runId);
      if (run.state === 'running') await setState(run, 'paused');
      return { runId, state: run.state };
    },
    resumeTraining: async ({ runId }) => {
      const run = liveRun(runId);
      if (run.state === 'paused') await setState(run, 'running');
      return { runId, state: run.state };
    },
    stopTraining: async ({ runId }) => {
      const run = liveRun(runId);
      if (run.timer) clearInterval(run.timer);
      if (run.state === 'running' || run.state === 'paused') await setState(run, 'stopped');
      return { runId, state: run.state };
    },

    resumeRun: async ({ runDir }) => {
      const checkpoint = path.join(runDir, 'checkpoint.json');
      if (!existsSync(checkpoint)) throw userError(`${runDir} has no checkpoint to resume from`, 'no-checkpoint');
      const config = JSON.parse(await readFile(path.join(runDir, 'config.json'), 'utf8')) as TrainingConfig;
      const { step } = JSON.parse(await readFile(checkpoint, 'utf8')) as { step: number };
      const run = await launch(runDir, config, step);
      return { runId: run.runId, runDir };
    },

    subscribeRun: ({ runId }, sink) => {
      const run = liveRun(runId);
      const listener = (event: TrainingEvent) => {
        sink.emit(event);
        if (event.type === 'state' && (event.state === 'finished' || event.state === 'stopped')) sink.end();
      };
      run.listeners.add(listener);
      sink.signal.addEventListener('abort', () => run.listeners.delete(listener));
      return { runId, runDir: run.runDir, state: run.state, progress: run.progress, epochs: [...run.epochs], warnings: [] };
    },

    // The lab has no datasets: the insight jobs, which all read one, are refused.
    topPatches: () => noDataset(),
    visualize: () => noDataset(),
    neighbours: () => noDataset(),
    embedding: () => noDataset(),

    watchRuns: (_params, sink) => {
      watchers.add(sink.emit);
      sink.signal.addEventListener('abort', () => watchers.delete(sink.emit));
      return { runs: [...runs.values()].map((r) => ({ runId: r.runId, runDir: r.runDir, state: r.state })) };
    },

    listRuns: async ({ dir }) => {
      const root = dir ?? options.runsDir;
      const names = existsSync(root) ? (await readdir(root)).sort() : [];
      const found = names.map((n) => path.join(root, n)).filter((d) => existsSync(path.join(d, 'config.json')));
      return {
        dir: root,
        runs: found.map((runDir) => {
          const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as TrainingConfig;
          const live = [...runs.values()].filter((r) => r.runDir === runDir).at(-1);
          return { runDir, runId: live?.runId ?? null, modelId: config.model.id, dataset: config.dataset, status: readStatus(runDir), epochs: config.epochs ?? 1, lastEpoch: live?.epochs.at(-1) ?? null };
        }),
      };
    },

    openRun: async ({ runDir }) => {
      const configFile = path.join(runDir, 'config.json');
      if (!existsSync(configFile)) throw notFound(`${runDir} is not a run folder`);
      const config = JSON.parse(await readFile(configFile, 'utf8')) as TrainingConfig;
      const lines = (await readFile(path.join(runDir, 'batch.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
      const records = lines.map((l) => JSON.parse(l) as { step: number; epoch: number; loss: number; accuracy: number; lr: number });
      const live = [...runs.values()].filter((r) => r.runDir === runDir).at(-1);
      return {
        runDir,
        runId: live?.runId ?? null,
        config,
        status: readStatus(runDir),
        epochs: live?.epochs ?? [],
        batches: {
          step: Int32Array.from(records, (r) => r.step),
          epoch: Int32Array.from(records, (r) => r.epoch),
          loss: Float32Array.from(records, (r) => r.loss),
          accuracy: Float32Array.from(records, (r) => r.accuracy),
          lr: Float32Array.from(records, (r) => r.lr),
        },
        layerStats: [],
        kernelSnapshots: [0, 10, 20, 30].map((step, index) => ({ index, step, epoch: 1 })),
        convLayers: ['conv1'],
        hasCheckpoint: existsSync(path.join(runDir, 'checkpoint.json')),
      };
    },

    backendInfo: () => ({
      requested: 'auto',
      chosen: 'cpu',
      tfBackend: 'cpu',
      skipped: [{ backend: 'wasm', reason: 'the lab computes by hand' }],
      versions: { node: process.versions.node },
      description: `cpu (lab handlers, pid ${process.pid})`,
    }),

    listDatasets: () => ({
      datasets: [
        { id: 'synthetic', title: 'Synthetic ramps', available: true, classes: 2, shape: [8, 8, 1], trainSize: 160, testSize: 20, note: null },
        { id: 'mnist', title: 'MNIST', available: false, classes: 10, shape: [28, 28, 1], trainSize: null, testSize: null, note: 'not part of the lab' },
      ],
    }),

    appDefaults: () => ({ run: null, samples: [{ name: 'ramp.pgm', path: path.join(options.runsDir, 'samples', 'ramp.pgm') }] }),

    runHistograms: () => ({ available: false, layers: [], layer: null, stopped: null, records: [] }),

    attribute: () => {
      throw new ContractError({ code: 'user-error', message: 'the lab engine has no attribution methods', reason: 'not-in-lab' });
    },

    unitArithmetic: () => {
      throw new ContractError({ code: 'user-error', message: 'the lab engine does not show unit arithmetic', reason: 'not-in-lab' });
    },
  };

  function readStatus(runDir: string): RunStatus {
    const file = path.join(runDir, 'status.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunStatus) : { state: 'failed' as const, updatedAt: '', globalStep: 0, epoch: 0 };
  }
}

/** For the web host's engine child: the module it loads exports createHandlers(). */
export function createHandlers(): EngineHandlers {
  const runsDir = process.env.LAB_RUNS_DIR;
  if (!runsDir) throw new Error('LAB_RUNS_DIR is not set');
  return createLabHandlers({ runsDir, stepMs: Number(process.env.LAB_STEP_MS ?? 2) });
}
