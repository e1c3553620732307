import path from 'node:path';
import { choiceFlag, parseFlags } from '../args';
import { UsageError } from '../errors';
import { initBackend } from '../../engine/backend';
import { parseOverrides } from '../../engine/models';
import { convKernels, filterNorms, type KernelArray } from '../../engine/inspect/kernels';
import { differenceToFirst, loadKernelSnapshot, openKernelTimeline, type KernelTimeline } from '../../engine/inspect/kernel-timeline';
import { isRunFolder, resolveModel } from '../../engine/inspect/model-ref';
import type { ValueRange } from '../../engine/inspect/render/image';
import { defaultKernelMode, kernelRange, renderKernels, type KernelMode } from '../../engine/inspect/render/kernels';
import { writePng } from '../../engine/inspect/render/png';
import { enlargeTo } from '../../engine/inspect/render/write-inspection';

export const HELP = `usage: convscope kernels --model RUN_DIR|ID|MODEL_JSON --out DIR [options]

Draws every conv layer's kernels as PNG. For a run folder: one frame per kernel snapshot taken during
training (DIR/<layer>/step-NNNNNNNN.png), all frames of a layer on one colour scale; otherwise the
model's current kernels (DIR/<layer>.png).
  --layer NAME       only this conv layer
  --mode M           rgb (default for 3 input channels, as in the AlexNet paper's figure 3), mean
                     (mean over input channels, the default otherwise) or per-input (one tile per input channel)
  --scale S          timeline (default for runs: one range for all frames), shared (one range per frame)
                     or per-kernel (each kernel stretched)
  --diff             run folders: draw each snapshot minus the first
  --set key=value    zoo models: an option, repeatable
  --json             print {layers:[{layer, shape, frames:[{step, epoch, file, meanNorm}]}]}
  --backend B        auto (default), gpu, webgpu, node, wasm or cpu (zoo models and model.json only)`;

const OPTIONS = {
  model: { type: 'string' },
  out: { type: 'string' },
  layer: { type: 'string' },
  mode: { type: 'string' },
  scale: { type: 'string' },
  diff: { type: 'boolean' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

interface Frame {
  step: number | null;
  epoch: number | null;
  file: string;
  meanNorm: number;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required (a run folder, a zoo id or a model.json)');
  if (!values.out) throw new UsageError('--out DIR is required (where the PNG frames go)');
  const mode = values.mode === undefined ? undefined : choiceFlag<KernelMode>('mode', values.mode, ['rgb', 'mean', 'per-input'], 'mean');
  const scale = choiceFlag('scale', values.scale, ['timeline', 'shared', 'per-kernel'] as const, 'timeline');
  const out = values.out;
  const layers: { layer: string; shape: number[]; frames: Frame[] }[] = [];
  const draw = async (k: KernelArray, file: string, range?: ValueRange) => {
    const kernelMode = mode ?? defaultKernelMode(k);
    if (kernelMode === 'rgb' && k.shape[2] !== 3) throw new UsageError(`--mode rgb needs 3 input channels; ${k.name} has ${k.shape[2]}`);
    const image = renderKernels(k, { mode: kernelMode, scale: scale === 'per-kernel' ? 'per-kernel' : 'shared', range });
    await writePng(file, enlargeTo(image, 256));
  };

  if (isRunFolder(values.model) && !values.set) {
    const t = openKernelTimeline(values.model);
    const names = pickLayers(t.layers, values.layer);
    for (const name of names) {
      const frameOf = (n: number) => (values.diff ? differenceToFirst(t, n, name) : loadKernelSnapshot(t, n, name))[0];
      const range = scale === 'timeline' ? timelineRange(t, frameOf, mode) : undefined;
      const frames: Frame[] = [];
      let shape: number[] = [];
      for (let n = 0; n < t.snapshots.length; n++) {
        const k = frameOf(n);
        shape = k.shape;
        const { step, epoch } = t.snapshots[n];
        const file = path.join(out, safe(name), `step-${String(step).padStart(8, '0')}.png`);
        await draw(k, file, range);
        frames.push({ step, epoch, file, meanNorm: mean(filterNorms(k)) });
      }
      layers.push({ layer: name, shape, frames });
    }
  } else {
    if (values.diff) throw new UsageError('--diff compares the snapshots of a run folder');
    await initBackend(values.backend);
    const resolved = await resolveModel(values.model, { overrides: parseOverrides(values.set ?? []) });
    try {
      const kernels = await convKernels(resolved.model);
      const names = pickLayers(kernels.map((k) => k.name), values.layer);
      for (const k of kernels.filter((k) => names.includes(k.name))) {
        const file = path.join(out, `${safe(k.name)}.png`);
        await draw(k, file);
        layers.push({ layer: k.name, shape: k.shape, frames: [{ step: null, epoch: null, file, meanNorm: mean(filterNorms(k)) }] });
      }
    } finally {
      resolved.model.dispose();
    }
  }

  if (values.json) {
    process.stdout.write(JSON.stringify({ layers }, null, 2) + '\n');
  } else {
    for (const l of layers) {
      const first = l.frames[0];
      const last = l.frames.at(-1)!;
      const span = l.frames.length > 1 ? `${l.frames.length} frames, steps ${first.step} to ${last.step}, mean filter norm ${first.meanNorm.toFixed(4)} -> ${last.meanNorm.toFixed(4)}` : `mean filter norm ${first.meanNorm.toFixed(4)}`;
      process.stdout.write(`${l.layer} ${l.shape.join('x')}: ${span}\n`);
    }
    process.stdout.write(`PNG files under ${path.resolve(out)}\n`);
  }
  return 0;
}

function pickLayers(all: string[], layer: string | undefined): string[] {
  if (all.length === 0) throw new UsageError('the model has no conv layers');
  if (layer === undefined) return all;
  if (!all.includes(layer)) throw new UsageError(`--layer: no conv layer '${layer}' (conv layers: ${all.join(', ')})`);
  return [layer];
}

/** One colour range for every frame of a layer: the union of the ranges each frame would use alone. */
function timelineRange(t: KernelTimeline, frameOf: (n: number) => KernelArray, mode: KernelMode | undefined): ValueRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < t.snapshots.length; n++) {
    const r = kernelRange(frameOf(n), mode);
    lo = Math.min(lo, r.lo);
    hi = Math.max(hi, r.hi);
  }
  return { lo, hi };
}

function mean(a: Float32Array): number {
  return a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
}

function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}
