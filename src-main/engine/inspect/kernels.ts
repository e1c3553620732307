// Conv kernels as arrays: [kh, kw, inChannels / groups, filters], the layout the trainer's snapshots use.
import { layerKind } from '../models/layer-kind';
import type { tf } from '../tf';
import type { NamedArray } from '../train/optimizers';

export type KernelArray = NamedArray;

/** Every conv layer's kernel (name = layer name), in layer order. */
export async function convKernels(model: tf.LayersModel): Promise<KernelArray[]> {
  const out: KernelArray[] = [];
  for (const layer of model.layers) {
    if (layerKind(layer) !== 'conv') continue;
    const kernel = layer.weights.find((w) => w.shape.length === 4);
    if (!kernel) continue;
    out.push({ name: layer.name, shape: kernel.shape as number[], values: (await kernel.read().data()) as Float32Array });
  }
  return out;
}

/** Value at [y, x, input channel, filter] of a [kh, kw, in, out] kernel array. */
export function kernelAt(k: KernelArray, y: number, x: number, c: number, f: number): number {
  const [, kw, cin, cout] = k.shape;
  return k.values[((y * kw + x) * cin + c) * cout + f];
}

/** L2 norm of each filter (one value per output channel). */
export function filterNorms(k: KernelArray): Float32Array {
  const cout = k.shape[3];
  const sums = new Float64Array(cout);
  for (let i = 0; i < k.values.length; i++) sums[i % cout] += k.values[i] * k.values[i];
  return Float32Array.from(sums, Math.sqrt);
}

/** a - b, element by element (same layer, same shape). */
export function kernelDifference(a: KernelArray, b: KernelArray): KernelArray {
  if (a.shape.join('x') !== b.shape.join('x')) throw new Error(`kernelDifference: ${a.name} ${a.shape.join('x')} vs ${b.name} ${b.shape.join('x')}`);
  const values = new Float32Array(a.values.length);
  for (let i = 0; i < values.length; i++) values[i] = a.values[i] - b.values[i];
  return { name: a.name, shape: [...a.shape], values };
}
