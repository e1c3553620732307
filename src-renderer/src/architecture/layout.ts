// The architecture diagram as geometry: one row per layer (top to bottom, as Netron draws), blocks sized
// by output shape, and AlexNet's grouped convs as two GPU towers with cross-tower connections where a
// layer sees both halves (conv3 and the dense layers). Works from a zoo spec (full config) or from a
// built model's summary (models opened from disk), through one neutral description.
import { inferShapes, formatShape, type LayerSpec, type ModelSpec } from '../../../src-main/engine/models/spec';
import type { ModelSummary } from '../../../src-main/contract/models';
import { LAYOUT } from '../theme/layout';

export type ArchKind = LayerSpec['kind'] | 'input' | 'zeroPadding' | 'other';

/** One layer as the diagram needs it. */
export interface ArchLayer {
  name: string;
  kind: ArchKind;
  /** Output shape without the batch axis. */
  outputShape: number[];
  params: number;
  trainableParams: number;
  /** One-line config, e.g. "96 @ 11x11 / 4, valid, relu". */
  config: string;
  /** Conv groups (1: all-to-all). */
  groups: number;
  /** The spec layer, where the model came from a spec. */
  spec: LayerSpec | null;
}

export interface ArchModel {
  input: [number, number, number];
  layers: ArchLayer[];
}

export interface ArchBlock {
  /** Layer name ('input' for the input). */
  layer: string;
  kind: ArchKind;
  /** Which tower (0-based); single-tower models use 0. */
  tower: number;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Shape this block shows (a tower's half of the channels when split). */
  shape: number[];
}

export interface ArchRow {
  layer: string;
  kind: ArchKind;
  spec: LayerSpec | null;
  y: number;
  h: number;
  /** The whole layer's output shape and parameters. */
  outputShape: number[];
  params: number;
  trainableParams: number;
  /** One-line config, e.g. "96 @ 11x11 / 4, valid, relu". */
  config: string;
  /** True for the layers drawn small (LRN, dropout, flatten, ...). */
  minor: boolean;
  split: boolean;
}

export interface ArchEdge {
  from: ArchBlock;
  to: ArchBlock;
  cross: boolean;
}

export interface ArchLayout {
  width: number;
  height: number;
  towers: number;
  towerX: number[];
  towerWidth: number;
  textX: number;
  /** Where activation thumbnails start: after the text column's longest line. */
  thumbX: number;
  rows: ArchRow[];
  blocks: ArchBlock[];
  edges: ArchEdge[];
  totalParams: number;
  trainableParams: number;
}

const MINOR: ReadonlySet<string> = new Set(['lrn', 'dropout', 'flatten', 'activation', 'batchNorm']);

/** Number of towers to draw: the largest conv group count, when it is small enough to draw (2 for AlexNet). */
export function towerCount(model: ArchModel): number {
  const g = Math.max(1, ...model.layers.map((l) => (l.kind === 'conv' ? l.groups : 1)));
  return g <= 4 ? g : 1;
}

/** The diagram's description of a zoo spec (every layer's config known). */
export function archFromSpec(spec: ModelSpec): ArchModel {
  const infos = inferShapes(spec);
  return {
    input: spec.input,
    layers: spec.layers.map((layer, i) => ({
      name: layer.name,
      kind: layer.kind,
      outputShape: infos[i].outputShape,
      params: infos[i].params,
      trainableParams: infos[i].trainableParams,
      config: layerConfig(layer),
      groups: layer.kind === 'conv' ? layer.groups : 1,
      spec: layer,
    })),
  };
}

/**
 * The diagram's description of a built model's summary (a model opened from disk): windows and strides
 * as the summary gives them (older engines: conv kernel sizes worked out from the parameter counts). A
 * GroupedConv2D is taken to have the 2 groups AlexNet's has.
 */
export function archFromSummary(summary: ModelSummary, input: [number, number, number]): ArchModel {
  let previous: number[] = [...input];
  const layers: ArchLayer[] = [];
  for (const l of summary.layers) {
    const outputShape = l.outputShape.slice(1).map((d) => d ?? 0);
    const groups = l.type === 'GroupedConv2D' ? 2 : 1;
    const win = l.window ? `${l.window.size[0]}x${l.window.size[1]} / ${l.window.stride[0]}` : null;
    let config = l.type;
    if (l.kind === 'conv' && previous.length === 3 && outputShape.length === 3) {
      const filters = outputShape[2];
      const perFilter = (l.params - filters) / filters / (previous[2] / groups);
      const k = Math.round(Math.sqrt(perFilter));
      const stride = inferStride(previous[0], outputShape[0], k);
      const inferred = k * k === Math.round(perFilter) ? `${k}x${k}${stride ? ` / ${stride}` : ''}` : null;
      const shape = win ?? inferred;
      config = `${filters} ${shape ? `@ ${shape}` : 'filters'}${groups > 1 ? `, ${groups} groups` : ''}`;
    } else if ((l.kind === 'maxPool' || l.kind === 'avgPool') && l.window) {
      config = `${win}${l.window.size[0] > l.window.stride[0] ? ' (overlapping)' : ''}`;
    } else if (l.kind === 'dense') {
      config = `${outputShape[0]} units`;
    }
    if (l.activation && l.activation !== 'linear' && l.kind !== 'activation') config += `, ${l.activation}`;
    if (l.kind === 'activation' && l.activation) config = l.activation;
    layers.push({ name: l.name, kind: l.kind as ArchKind, outputShape, params: l.params, trainableParams: l.trainableParams, config, groups, spec: null });
    previous = outputShape;
  }
  return { input, layers };
}

export function layerConfig(layer: LayerSpec): string {
  switch (layer.kind) {
    case 'conv': {
      const pad = typeof layer.padding === 'number' ? `pad ${layer.padding}` : layer.padding;
      const groups = layer.groups > 1 ? `, ${layer.groups} groups` : '';
      return `${layer.filters} @ ${layer.kernel}x${layer.kernel} / ${layer.stride}, ${pad}${groups}, ${layer.activation}`;
    }
    case 'maxPool':
    case 'avgPool':
      return `${layer.size}x${layer.size} / ${layer.stride}${layer.size > layer.stride ? ' (overlapping)' : ''}`;
    case 'lrn':
      return `k=${layer.bias}, n=${2 * layer.depthRadius + 1}, α=${layer.alpha}, β=${layer.beta}`;
    case 'batchNorm':
      return `momentum ${layer.momentum}, ε ${layer.epsilon}`;
    case 'activation':
      return layer.activation;
    case 'flatten':
      return '';
    case 'dense':
      return `${layer.units} units, ${layer.activation}`;
    case 'dropout':
      return `rate ${layer.rate}`;
  }
}

const log2 = (v: number) => Math.log2(Math.max(1, v));

/** The smallest stride that turns `size` into `out` with a k-wide window, unpadded or 'same'; null if none. */
export function inferStride(size: number, out: number, k: number): number | null {
  for (let s = 1; s <= k; s++) {
    if (size >= k && Math.floor((size - k) / s) + 1 === out) return s;
    if (Math.ceil(size / s) === out) return s;
  }
  return null;
}

/** Lays out the diagram; `extraWidth` reserves room on the right (activation thumbnails). */
export function layoutArchitecture(model: ArchModel, extraWidth = 0): ArchLayout {
  const towers = towerCount(model);
  const A = LAYOUT.arch;
  // Layers split across towers: from the first layer up to (not including) the output layer.
  const outputIndex = model.layers.length - 1;
  const splitAt = (i: number) => towers > 1 && i < outputIndex;

  const maxSpatial = Math.max(model.input[0], ...model.layers.map((s) => (s.outputShape.length === 3 ? s.outputShape[0] : 1)));
  const maxChannels = Math.max(...model.layers.map((s) => s.outputShape.at(-1) ?? 1), model.input[2]);
  const towerWidth = towers > 1 ? A.blockWidth + 20 : A.blockWidth * 1.3;
  const towerX = Array.from({ length: towers }, (_, t) => A.padding + t * (towerWidth + A.towerGap));
  const towersRight = towerX[towers - 1] + towerWidth;
  const textX = towersRight + 24;

  const rows: ArchRow[] = [];
  const blocks: ArchBlock[] = [];
  const edges: ArchEdge[] = [];
  // Room above for the tower captions.
  let y = A.padding + (towers > 1 ? 14 : 0);
  let previous: ArchBlock[] = [];

  const sizeOf = (shape: number[], minor: boolean, split: boolean) => {
    const channels = shape.at(-1)! / (split ? towers : 1);
    const wFrac = log2(channels) / log2(Math.max(2, maxChannels / (split ? towers : 1)));
    const w = minor ? Math.max(44, towerWidth * 0.35) : Math.max(48, towerWidth * (0.35 + 0.65 * Math.min(1, wFrac)));
    const spatial = shape.length === 3 ? shape[0] : 1;
    const hFrac = shape.length === 3 ? log2(spatial) / log2(Math.max(2, maxSpatial)) : 0;
    const h = minor ? 22 : Math.round(A.blockMinHeight + (A.blockMaxHeight - A.blockMinHeight) * 0.45 * hFrac);
    return { w, h };
  };

  const addRow = (layer: string, kind: ArchKind, specLayer: LayerSpec | null, shape: number[], params: number, trainable: number, split: boolean, config: string, seesAll: boolean) => {
    const minor = MINOR.has(kind);
    const { w, h } = sizeOf(shape, minor, split);
    const row: ArchRow = { layer, kind, spec: specLayer, y, h, outputShape: shape, params, trainableParams: trainable, config, minor, split };
    const mine: ArchBlock[] = [];
    const count = split ? towers : 1;
    for (let t = 0; t < count; t++) {
      const centre = split ? towerX[t] + towerWidth / 2 : (towerX[0] + towersRight) / 2;
      const part = split ? [...shape.slice(0, -1), shape.at(-1)! / towers] : shape;
      mine.push({ layer, kind, tower: t, x: centre - w / 2, y, w, h, shape: part });
    }
    // Connections: own tower always; across towers where the layer sees every input channel.
    for (const to of mine) {
      for (const from of previous) {
        const same = from.tower === to.tower || previous.length === 1 || mine.length === 1;
        if (same || seesAll) edges.push({ from, to, cross: !same });
      }
    }
    rows.push(row);
    blocks.push(...mine);
    previous = mine;
    y += h + (minor ? 14 : A.columnGap);
  };

  addRow('input', 'input', null, [...model.input], 0, 0, false, '', false);
  model.layers.forEach((layer, i) => {
    const divisible = (layer.outputShape.at(-1) ?? 1) % towers === 0;
    const seesAll = (layer.kind === 'conv' && layer.groups === 1) || layer.kind === 'dense';
    addRow(layer.name, layer.kind, layer.spec, layer.outputShape, layer.params, layer.trainableParams, splitAt(i) && divisible, layer.config, seesAll);
  });

  let total = 0;
  let trainable = 0;
  for (const info of model.layers) {
    total += info.params;
    trainable += info.trainableParams;
  }
  // Thumbnails start after the longest text line (estimated: the SVG is laid out before it is drawn).
  const longest = Math.max(
    ...rows.map((r) => Math.max(r.layer.length + 2 + r.config.length, rowShapeText(r, towers).length + (r.params > 0 ? formatCount(r.params).length + 10 : 0))),
  );
  const thumbX = textX + Math.max(A.textMinWidth, Math.ceil(longest * A.charWidth)) + A.textGap;
  return {
    width: thumbX + extraWidth,
    height: y - A.columnGap + A.padding,
    towers,
    towerX,
    towerWidth,
    textX,
    thumbX,
    rows,
    blocks,
    edges,
    totalParams: total,
    trainableParams: trainable,
  };
}

/** "55x55x96" or, for a split layer, "55x55x48 ×2". */
export function rowShapeText(row: ArchRow, towers: number): string {
  if (!row.split || towers < 2) return formatShape(row.outputShape);
  return `${formatShape([...row.outputShape.slice(0, -1), row.outputShape.at(-1)! / towers])} ×${towers}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
