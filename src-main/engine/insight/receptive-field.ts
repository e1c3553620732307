// Receptive fields from the layers' kernels, strides, padding and dilation (read from their configs, never
// their names), walked from the input through the model's graph: rf = rf_prev + (k - 1) * jump_prev,
// jump = jump_prev * stride, and a padding of p moves a unit's window start by -p * jump_prev.
import { tf } from '../tf';
import { layerKind } from '../models/layer-kind';
import { modelGraph, type ModelGraph } from '../inspect/graph';
import { LayerChoiceError } from '../inspect/errors';

/** One spatial axis: unit i covers input positions start + i * jump .. start + i * jump + size - 1 (before clipping). */
export interface AxisField {
  size: number;
  jump: number;
  start: number;
}

export interface ReceptiveField {
  layer: string;
  /** The layer's output height and width (null for layers with no spatial axes: their field is the whole input). */
  outputSize: [number, number] | null;
  y: AxisField;
  x: AxisField;
  /** The input's [height, width]. */
  input: [number, number];
}

/** A unit's input window, clipped at the border: rows top..top+height-1, columns left..left+width-1. */
export interface Window {
  top: number;
  left: number;
  height: number;
  width: number;
}

type Field = { y: AxisField; x: AxisField } | 'global';

const pair = (v: unknown, what: string): [number, number] => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number')) return [v[0], v[1]];
  throw new LayerChoiceError(`unreadable ${what} in a layer config: ${JSON.stringify(v)}`);
};

/** Padding before the first unit along one axis: explicit (a number, as GroupedConv2D's), or TensorFlow's 'same' (the smaller half in front). */
function padBefore(padding: unknown, inSize: number, k: number, stride: number): number {
  if (typeof padding === 'number') return padding;
  if (padding !== 'same') return 0;
  const out = Math.ceil(inSize / stride);
  return Math.floor(Math.max((out - 1) * stride + k - inSize, 0) / 2);
}

function spatial(t: tf.SymbolicTensor): [number, number] | null {
  return t.shape.length === 4 && t.shape[1] && t.shape[2] ? [t.shape[1], t.shape[2]] : null;
}

function through(axis: AxisField, k: number, stride: number, pad: number): AxisField {
  return { size: axis.size + (k - 1) * axis.jump, jump: axis.jump * stride, start: axis.start - pad * axis.jump };
}

/** The field of one layer's output given its input's. */
function step(layer: tf.layers.Layer, inputs: Field[], inTensor: tf.SymbolicTensor, outTensor: tf.SymbolicTensor): Field {
  if (inputs.some((f) => f === 'global') || spatial(outTensor) === null) return 'global';
  const fields = inputs as { y: AxisField; x: AxisField }[];
  const [inH, inW] = spatial(inTensor)!;
  const config = layer.getConfig() as Record<string, unknown>;
  const kind = layerKind(layer);
  if (kind === 'conv' || kind === 'maxPool' || kind === 'avgPool') {
    const [kh, kw] = pair(kind === 'conv' ? config.kernelSize : config.poolSize, 'kernel size');
    const [sh, sw] = pair(config.strides ?? (kind === 'conv' ? 1 : config.poolSize), 'strides');
    const [dh, dw] = pair(config.dilationRate ?? 1, 'dilation');
    const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
    const f = fields[0];
    return { y: through(f.y, eh, sh, padBefore(config.padding, inH, eh, sh)), x: through(f.x, ew, sw, padBefore(config.padding, inW, ew, sw)) };
  }
  if (kind === 'zeroPadding') {
    const p = config.padding as unknown;
    const [[top], [left]] = Array.isArray(p) && Array.isArray(p[0]) ? (p as [number[], number[]]) : pair(p, 'padding').map((v) => [v]);
    const f = fields[0];
    return { y: through(f.y, 1, 1, top), x: through(f.x, 1, 1, left) };
  }
  const [outH, outW] = spatial(outTensor)!;
  if (inH !== outH || inW !== outW) {
    throw new LayerChoiceError(`cannot follow the receptive field through layer '${layer.name}' (${layer.getClassName()}): it changes the spatial size without a kernel ConvScope can read`);
  }
  // Position-wise layers (activations, normalisation, dropout, merges): the union of their inputs' fields.
  const union = (axes: AxisField[]): AxisField => {
    const start = Math.min(...axes.map((a) => a.start));
    const end = Math.max(...axes.map((a) => a.start + a.size));
    return { size: end - start, jump: axes[0].jump, start };
  };
  return { y: union(fields.map((f) => f.y)), x: union(fields.map((f) => f.x)) };
}

function fieldsOf(graph: ModelGraph): Map<number, Field> {
  const fields = new Map<number, Field>([[graph.input.id, { y: { size: 1, jump: 1, start: 0 }, x: { size: 1, jump: 1, start: 0 } }]]);
  for (const s of graph.steps) {
    const inputs = s.inputs.map((t) => fields.get(t.id)!);
    for (const out of s.outputs) fields.set(out.id, step(s.layer, inputs, s.inputs[0], out));
  }
  return fields;
}

/** The receptive field of every unit of a layer's output (the layer's first use). */
export function receptiveField(model: tf.LayersModel, layerName: string): ReceptiveField {
  const graph = modelGraph(model);
  const at = graph.steps.find((s) => s.layer.name === layerName);
  if (!at) throw new LayerChoiceError(`the model has no layer '${layerName}' (layers: ${graph.steps.map((s) => s.layer.name).join(', ')})`);
  return fieldAt(graph, fieldsOf(graph), at.layer.name, at.outputs[0]);
}

/** Every layer's receptive field (first use of each), in graph order. */
export function receptiveFields(model: tf.LayersModel): ReceptiveField[] {
  const graph = modelGraph(model);
  const fields = fieldsOf(graph);
  const seen = new Set<string>();
  return graph.steps.filter((s) => !seen.has(s.layer.name) && seen.add(s.layer.name)).map((s) => fieldAt(graph, fields, s.layer.name, s.outputs[0]));
}

function fieldAt(graph: ModelGraph, fields: Map<number, Field>, layerName: string, out: tf.SymbolicTensor): ReceptiveField {
  const input = spatial(graph.input);
  if (!input) throw new LayerChoiceError(`receptive fields need an image input [batch, height, width, channels]`);
  const field = fields.get(out.id)!;
  const outputSize = spatial(out);
  if (field === 'global' || outputSize === null) {
    return { layer: layerName, outputSize: null, y: { size: input[0], jump: 0, start: 0 }, x: { size: input[1], jump: 0, start: 0 }, input };
  }
  return { layer: layerName, outputSize, y: field.y, x: field.x, input };
}

/** The input window of unit (row, col), clipped at the image border. */
export function unitWindow(rf: ReceptiveField, row: number, col: number): Window {
  const clip = (a: AxisField, i: number, limit: number): [number, number] => {
    const from = a.start + i * a.jump;
    const lo = Math.max(0, from);
    const hi = Math.min(limit, from + a.size);
    return [lo, Math.max(0, hi - lo)];
  };
  const [top, height] = clip(rf.y, row, rf.input[0]);
  const [left, width] = clip(rf.x, col, rf.input[1]);
  return { top, left, height, width };
}
