// Layer-by-layer summaries (name, class, output shape, params) of a built model or of a spec, and a
// Keras-like text table of either.
import { tf } from '../tf';
import { convClassName } from './builder';
import { layerActivation, layerKind, type LayerKind } from './layer-kind';
import { inferShapes, type Activation, type LayerSpec, type ModelSpec } from './spec';

export interface LayerSummary {
  name: string;
  /** The tfjs class, e.g. Conv2D, GroupedConv2D, MaxPooling2D. */
  type: string;
  kind: LayerKind;
  activation: Activation | 'other' | null;
  /** With the batch axis first (null), as tfjs reports it. */
  outputShape: (number | null)[];
  params: number;
  trainableParams: number;
  /** Convolution and pooling layers: the window's height x width and the stride along each. */
  window?: { size: [number, number]; stride: [number, number] };
}

export interface ModelSummary {
  name: string;
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
}

/** Summary of a built model (its InputLayer left out, as in Keras' Sequential summaries). */
export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const layers = model.layers
    .filter((layer) => layer.getClassName() !== 'InputLayer')
    .map((layer): LayerSummary => {
      const shape = layer.outputShape;
      if (Array.isArray(shape[0])) throw new Error(`summarizeModel: layer ${layer.name} has several outputs`);
      return {
        name: layer.name,
        type: layer.getClassName(),
        kind: layerKind(layer),
        activation: layerActivation(layer),
        outputShape: [...(shape as (number | null)[])],
        params: layer.countParams(),
        trainableParams: layer.trainableWeights.reduce((sum, w) => sum + sizeOf(w.shape as number[]), 0),
        ...windowOf(layer),
      };
    });
  return withTotals(model.name, layers);
}

/** The same summary from the spec alone, without allocating weights (equals summarizeModel(buildModel(spec))). */
export function summarizeSpec(spec: ModelSpec): ModelSummary {
  const layers = inferShapes(spec).map((info, i): LayerSummary => {
    const layer = spec.layers[i];
    return {
      name: info.name,
      type: specClassName(layer),
      kind: layer.kind,
      activation: 'activation' in layer ? layer.activation : null,
      outputShape: [null, ...info.outputShape],
      params: info.params,
      trainableParams: info.trainableParams,
      ...(layer.kind === 'conv'
        ? { window: { size: [layer.kernel, layer.kernel], stride: [layer.stride, layer.stride] } }
        : layer.kind === 'maxPool' || layer.kind === 'avgPool'
          ? { window: { size: [layer.size, layer.size], stride: [layer.stride, layer.stride] } }
          : {}),
    };
  });
  return withTotals(spec.id, layers);
}

/** A conv or pooling layer's window and stride from its config (a number or [h, w] in tfjs configs). */
function windowOf(layer: tf.layers.Layer): Pick<LayerSummary, 'window'> {
  const kind = layerKind(layer);
  if (kind !== 'conv' && kind !== 'maxPool' && kind !== 'avgPool') return {};
  const c = layer.getConfig() as { kernelSize?: number | number[]; poolSize?: number | number[]; strides?: number | number[] | null };
  const pair = (v: number | number[] | null | undefined, fallback: [number, number]): [number, number] =>
    v === null || v === undefined ? fallback : typeof v === 'number' ? [v, v] : [v[0], v[1] ?? v[0]];
  const size = pair(kind === 'conv' ? c.kernelSize : c.poolSize, [1, 1]);
  // Keras' pooling layers default their strides to the pool size.
  return { window: { size, stride: pair(c.strides, kind === 'conv' ? [1, 1] : size) } };
}

/** A Keras-like table: one row per layer, then total / trainable / non-trainable counts. */
export function formatSummary(summary: ModelSummary): string {
  const header = ['Layer (type)', 'Output shape', 'Params'];
  const rows = summary.layers.map((l) => [`${l.name} (${l.type})`, kerasShape(l.outputShape), thousands(l.params)]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('   ').trimEnd();
  const total = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
  return [
    `Model: ${summary.name}`,
    '='.repeat(total),
    line(header),
    '='.repeat(total),
    ...rows.map(line),
    '='.repeat(total),
    `Total params: ${thousands(summary.totalParams)}`,
    `Trainable params: ${thousands(summary.trainableParams)}`,
    `Non-trainable params: ${thousands(summary.nonTrainableParams)}`,
  ].join('\n');
}

function withTotals(name: string, layers: LayerSummary[]): ModelSummary {
  const totalParams = layers.reduce((s, l) => s + l.params, 0);
  const trainableParams = layers.reduce((s, l) => s + l.trainableParams, 0);
  return { name, layers, totalParams, trainableParams, nonTrainableParams: totalParams - trainableParams };
}

const CLASS_BY_KIND: Record<Exclude<LayerSpec['kind'], 'conv'>, string> = {
  maxPool: 'MaxPooling2D',
  avgPool: 'AveragePooling2D',
  lrn: 'LocalResponseNormalization',
  batchNorm: 'BatchNormalization',
  activation: 'Activation',
  flatten: 'Flatten',
  dense: 'Dense',
  dropout: 'Dropout',
};

function specClassName(layer: LayerSpec): string {
  return layer.kind === 'conv' ? convClassName(layer) : CLASS_BY_KIND[layer.kind];
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function kerasShape(shape: (number | null)[]): string {
  return `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
}

/** 60965224 -> 60,965,224 (independent of the locale). */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
