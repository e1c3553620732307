// A run's conv-kernel snapshots (written by the trainer's KernelSnapshotStore) as a timeline: list them,
// load one, compare with the first, and follow each filter's norm over training.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KERNEL_INDEX, KERNELS_DIR, readKernelSnapshot, type KernelIndex, type KernelSnapshotEntry } from '../train/kernel-snapshots';
import { filterNorms, kernelDifference, type KernelArray } from './kernels';
import { LayerChoiceError, ModelRefError } from './errors';

export interface KernelTimeline {
  runDir: string;
  index: KernelIndex;
  /** Oldest first. */
  snapshots: readonly KernelSnapshotEntry[];
  /** Conv layer names, in model order. */
  layers: string[];
}

export function openKernelTimeline(runDir: string): KernelTimeline {
  const file = path.join(runDir, KERNELS_DIR, KERNEL_INDEX);
  if (!existsSync(file)) throw new ModelRefError(`${runDir} has no kernel snapshots (no ${KERNELS_DIR}/${KERNEL_INDEX})`);
  let index: KernelIndex;
  try {
    index = JSON.parse(readFileSync(file, 'utf8')) as KernelIndex;
  } catch (err) {
    throw new ModelRefError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (index.format !== 'float32-le' || !Array.isArray(index.snapshots) || !Array.isArray(index.layers)) {
    throw new ModelRefError(`${file} is not a kernel snapshot index this version can read`);
  }
  const snapshots = [...index.snapshots].sort((a, b) => a.step - b.step);
  for (const s of snapshots) {
    if (!existsSync(path.join(runDir, KERNELS_DIR, s.file))) throw new ModelRefError(`kernel snapshot ${s.file} (step ${s.step}) named in ${file} is missing`);
  }
  return { runDir, index, snapshots, layers: index.layers.map((l) => l.layer) };
}

/** Snapshot n (0 = the first) of every conv layer, or of one layer. */
export function loadKernelSnapshot(t: KernelTimeline, n: number, layer?: string): KernelArray[] {
  const entry = t.snapshots[n];
  if (!entry) throw new RangeError(`snapshot ${n} does not exist (the run has ${t.snapshots.length}, 0 to ${t.snapshots.length - 1})`);
  const arrays = readKernelSnapshot(t.runDir, entry, t.index);
  if (layer === undefined) return arrays;
  return [pickLayer(t, arrays, layer)];
}

function pickLayer(t: KernelTimeline, arrays: KernelArray[], layer: string): KernelArray {
  const found = arrays.find((a) => a.name === layer);
  if (!found) throw new LayerChoiceError(`the run's snapshots have no conv layer '${layer}' (they have ${t.layers.join(', ')})`);
  return found;
}

/** Snapshot n minus the first snapshot, per layer. */
export function differenceToFirst(t: KernelTimeline, n: number, layer?: string): KernelArray[] {
  const first = loadKernelSnapshot(t, 0, layer);
  return loadKernelSnapshot(t, n, layer).map((k, i) => kernelDifference(k, first[i]));
}

export interface NormSeries {
  layer: string;
  steps: number[];
  epochs: number[];
  /** norms[s][f]: L2 norm of filter f in snapshot s. */
  norms: Float32Array[];
}

/** Each filter's L2 norm in every snapshot. */
export function filterNormsOverTime(t: KernelTimeline, layer: string): NormSeries {
  if (!t.layers.includes(layer)) throw new LayerChoiceError(`the run's snapshots have no conv layer '${layer}' (they have ${t.layers.join(', ')})`);
  return {
    layer,
    steps: t.snapshots.map((s) => s.step),
    epochs: t.snapshots.map((s) => s.epoch),
    norms: t.snapshots.map((_, n) => filterNorms(loadKernelSnapshot(t, n, layer)[0])),
  };
}
