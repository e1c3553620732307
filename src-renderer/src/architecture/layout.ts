// The architecture diagram as geometry, from a model spec alone: one row per layer (top to bottom, as
// Netron draws), blocks sized by output shape, and AlexNet's grouped convs as two GPU towers with
// cross-tower connections where a layer sees both halves (conv3 and the dense layers).
import { inferShapes, formatShape, type LayerSpec, type ModelSpec, type LayerShapeInfo } from '../../../src-main/engine/models/spec';
import { LAYOUT } from '../theme/layout';

export interface ArchBlock {
  /** Layer name ('input' for the input). */
  layer: string;
  kind: LayerSpec['kind'] | 'input';
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
  kind: LayerSpec['kind'] | 'input';
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
  rows: ArchRow[];
  blocks: ArchBlock[];
  edges: ArchEdge[];
  totalParams: number;
  trainableParams: number;
}

const MINOR: ReadonlySet<string> = new Set(['lrn', 'dropout', 'flatten', 'activation', 'batchNorm']);

/** Number of towers to draw: the largest conv group count, when it is small enough to draw (2 for AlexNet). */
export function towerCount(spec: ModelSpec): number {
  const g = Math.max(1, ...spec.layers.map((l) => (l.kind === 'conv' ? l.groups : 1)));
  return g <= 4 ? g : 1;
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

/**
 * Lays out the diagram. Throws the spec walk's SpecShapeError if the spec is impossible.
 * `extraWidth` reserves room on the right (activation thumbnails).
 */
export function layoutArchitecture(spec: ModelSpec, extraWidth = 0): ArchLayout {
  const infos: LayerShapeInfo[] = inferShapes(spec);
  const towers = towerCount(spec);
  const A = LAYOUT.arch;
  // Layers split across towers: from the first conv up to (not including) the output layer.
  const outputIndex = spec.layers.length - 1;
  const splitAt = (i: number) => towers > 1 && i < outputIndex;

  const maxSpatial = Math.max(spec.input[0], ...infos.map((s) => (s.outputShape.length === 3 ? s.outputShape[0] : 1)));
  const maxChannels = Math.max(...infos.map((s) => s.outputShape.at(-1)!), spec.input[2]);
  const towerWidth = towers > 1 ? A.blockWidth + 20 : A.blockWidth * 1.6;
  const towerX = Array.from({ length: towers }, (_, t) => A.padding + t * (towerWidth + A.towerGap));
  const towersRight = towerX[towers - 1] + towerWidth;
  const textX = towersRight + 24;

  const rows: ArchRow[] = [];
  const blocks: ArchBlock[] = [];
  const edges: ArchEdge[] = [];
  let y = A.padding;
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

  const addRow = (layer: string, kind: ArchRow['kind'], specLayer: LayerSpec | null, shape: number[], params: number, trainable: number, split: boolean) => {
    const minor = MINOR.has(kind);
    const { w, h } = sizeOf(shape, minor, split);
    const row: ArchRow = { layer, kind, spec: specLayer, y, h, outputShape: shape, params, trainableParams: trainable, config: specLayer ? layerConfig(specLayer) : '', minor, split };
    const mine: ArchBlock[] = [];
    const count = split ? towers : 1;
    for (let t = 0; t < count; t++) {
      const centre = split ? towerX[t] + towerWidth / 2 : (towerX[0] + towersRight) / 2;
      const part = split ? [...shape.slice(0, -1), shape.at(-1)! / towers] : shape;
      mine.push({ layer, kind, tower: t, x: centre - w / 2, y, w, h, shape: part });
    }
    // Connections: own tower always; across towers where the layer sees every input channel.
    const seesAll = specLayer !== null && ((specLayer.kind === 'conv' && specLayer.groups === 1) || specLayer.kind === 'dense');
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

  addRow('input', 'input', null, [...spec.input], 0, 0, false);
  spec.layers.forEach((layer, i) => {
    const info = infos[i];
    const divisible = info.outputShape.at(-1)! % towers === 0;
    addRow(layer.name, layer.kind, layer, info.outputShape, info.params, info.trainableParams, splitAt(i) && divisible);
  });

  let total = 0;
  let trainable = 0;
  for (const info of infos) {
    total += info.params;
    trainable += info.trainableParams;
  }
  return {
    width: textX + 330 + extraWidth,
    height: y - A.columnGap + A.padding,
    towers,
    towerX,
    towerWidth,
    textX,
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
