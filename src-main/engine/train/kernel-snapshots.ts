// Conv-kernel snapshots: each a binary file of float32 values (every conv kernel of the model, one after
// the other, layout in index.json), kept within a disk budget by thinning: when over budget, every other
// snapshot is dropped, the first and the last always kept.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic';
import type { NamedArray } from './optimizers';

export const KERNELS_DIR = 'kernels';
export const KERNEL_INDEX = 'index.json';

export interface KernelLayout {
  /** Layer name. */
  layer: string;
  /** [kh, kw, inChannels (per group), filters] */
  shape: number[];
  /** Offset in float32 elements inside each snapshot file. */
  offset: number;
  length: number;
}

export interface KernelSnapshotEntry {
  step: number;
  epoch: number;
  file: string;
  bytes: number;
}

export interface KernelIndex {
  format: 'float32-le';
  layers: KernelLayout[];
  budgetBytes: number;
  snapshots: KernelSnapshotEntry[];
}

/** Indices kept by one thinning pass: the even ones, and the last. */
export function thinIndices(count: number): number[] {
  const keep: number[] = [];
  for (let i = 0; i < count; i += 2) keep.push(i);
  if (count > 1 && keep[keep.length - 1] !== count - 1) keep.push(count - 1);
  return keep;
}

export class KernelSnapshotStore {
  private constructor(
    private readonly dir: string,
    private index: KernelIndex,
  ) {}

  /** Opens the store of a run folder (creating it), keeping an existing index when the layout matches. */
  static async open(runDir: string, kernels: readonly NamedArray[], budgetBytes: number): Promise<KernelSnapshotStore> {
    const dir = path.join(runDir, KERNELS_DIR);
    await mkdir(dir, { recursive: true });
    let offset = 0;
    const layers = kernels.map((k) => {
      const entry = { layer: k.name, shape: k.shape, offset, length: k.values.length };
      offset += k.values.length;
      return entry;
    });
    const file = path.join(dir, KERNEL_INDEX);
    let index: KernelIndex = { format: 'float32-le', layers, budgetBytes, snapshots: [] };
    if (existsSync(file)) {
      const old = JSON.parse(readFileSync(file, 'utf8')) as KernelIndex;
      if (JSON.stringify(old.layers) === JSON.stringify(layers)) index = { ...old, budgetBytes };
    }
    return new KernelSnapshotStore(dir, index);
  }

  get snapshots(): readonly KernelSnapshotEntry[] {
    return this.index.snapshots;
  }

  get totalBytes(): number {
    return this.index.snapshots.reduce((s, e) => s + e.bytes, 0);
  }

  /** Writes one snapshot (kernels in the order given to open), then thins until within budget. */
  async add(step: number, epoch: number, kernels: readonly NamedArray[]): Promise<KernelSnapshotEntry> {
    const total = this.index.layers.reduce((s, l) => s + l.length, 0);
    const data = new Float32Array(total);
    this.index.layers.forEach((l, i) => data.set(kernels[i].values, l.offset));
    const entry: KernelSnapshotEntry = { step, epoch, file: `step-${String(step).padStart(8, '0')}.f32`, bytes: data.byteLength };
    await writeFileAtomic(path.join(this.dir, entry.file), new Uint8Array(data.buffer));
    this.index.snapshots = [...this.index.snapshots.filter((s) => s.step !== step), entry];
    await this.thinToBudget();
    return entry;
  }

  /** Forgets snapshots taken after `step` (a resumed run retakes them). */
  async dropAfter(step: number): Promise<void> {
    const later = this.index.snapshots.filter((s) => s.step > step);
    if (later.length === 0) return;
    this.index.snapshots = this.index.snapshots.filter((s) => s.step <= step);
    await this.writeIndex();
    await Promise.all(later.map((s) => rm(path.join(this.dir, s.file), { force: true })));
  }

  private async thinToBudget(): Promise<void> {
    const dropped: KernelSnapshotEntry[] = [];
    while (this.totalBytes > this.index.budgetBytes && this.index.snapshots.length > 2) {
      const keep = new Set(thinIndices(this.index.snapshots.length));
      this.index.snapshots.forEach((s, i) => {
        if (!keep.has(i)) dropped.push(s);
      });
      this.index.snapshots = this.index.snapshots.filter((_, i) => keep.has(i));
    }
    // The index never names a deleted file: write it first, delete after.
    await this.writeIndex();
    await Promise.all(dropped.map((s) => rm(path.join(this.dir, s.file), { force: true })));
  }

  private async writeIndex(): Promise<void> {
    await writeFileAtomic(path.join(this.dir, KERNEL_INDEX), JSON.stringify(this.index, null, 1));
  }
}

/** Reads one snapshot's kernels back (for the renderer or tests). */
export function readKernelSnapshot(runDir: string, entry: KernelSnapshotEntry, index: KernelIndex): NamedArray[] {
  const bytes = readFileSync(path.join(runDir, KERNELS_DIR, entry.file));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return index.layers.map((l) => ({ name: l.layer, shape: l.shape, values: all.subarray(l.offset, l.offset + l.length) }));
}
