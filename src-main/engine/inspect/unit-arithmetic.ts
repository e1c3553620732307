// The arithmetic of one unit, from the real tensors of one forward pass: a conv unit's input patch (its
// window in the layer's input, over its group's channels), kernel, elementwise products, per-channel sums,
// bias, activation and output; a pooling unit's window and winner; a dense unit's top contributing inputs;
// an LRN unit's neighbouring channels and its formula with the layer's constants. `engineOutput` is what
// the layer itself computed for that unit, for checking.
import { tf } from '../tf';
import { layerActivation, layerKind } from '../models/layer-kind';
import type { Activation } from '../models/spec';
import { LayerChoiceError } from './errors';
import { modelGraph, runGraph, type GraphStep } from './graph';

export interface UnitRef {
  layer: string;
  /** Row and column of the unit in the layer's output (0 for a dense layer). */
  y: number;
  x: number;
  /** Output channel (a dense layer: its unit index). */
  channel: number;
}

/** Where a unit's window lies in the layer's input; rows/columns outside [0, size) are padding. */
export interface UnitWindow {
  top: number;
  left: number;
  height: number;
  width: number;
  strideY: number;
  strideX: number;
  /** The input's height and width. */
  inputHeight: number;
  inputWidth: number;
}

interface Common {
  layer: string;
  className: string;
  /** The layer the inputs come from ('input' for the model's input). */
  inputLayer: string;
  unit: UnitRef;
  /** The value the arithmetic arrives at. */
  output: number;
  /** The layer's own output for this unit. */
  engineOutput: number;
}

export interface ConvArithmetic extends Common {
  kind: 'conv';
  window: UnitWindow;
  /** Input channels the unit reads (its group's, for a grouped convolution). */
  inputChannels: number[];
  group: { index: number; count: number };
  /** [height, width, inputChannels.length], row-major; padding reads 0. */
  patch: Float32Array;
  kernel: Float32Array;
  products: Float32Array;
  /** Sum of the products per input channel. */
  channelSums: Float32Array;
  sum: number;
  bias: number;
  preActivation: number;
  activation: Activation;
}

export interface PoolArithmetic extends Common {
  kind: 'pool';
  op: 'max' | 'avg';
  window: UnitWindow;
  /** [height, width] of the unit's channel; NaN where the window lies over padding. */
  values: Float32Array;
  /** Max pooling: the row and column in the window of the winner. */
  winner: { dy: number; dx: number } | null;
}

export interface DenseTerm {
  index: number;
  input: number;
  weight: number;
  product: number;
}

export interface DenseArithmetic extends Common {
  kind: 'dense';
  inputCount: number;
  /** The inputs with the largest |input x weight|, largest first. */
  top: DenseTerm[];
  /** Sum of all products, and of those outside `top`. */
  sum: number;
  rest: number;
  bias: number;
  preActivation: number;
  activation: Activation;
}

export interface LrnArithmetic extends Common {
  kind: 'lrn';
  /** Channels c - r .. c + r that exist, their input values and squares at (y, x). */
  channels: number[];
  values: Float32Array;
  squares: Float32Array;
  sumSquares: number;
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
  /** (bias + alpha * sumSquares) ^ beta */
  denominator: number;
  /** The unit's own input a_c. */
  centre: number;
}

export type UnitArithmetic = ConvArithmetic | PoolArithmetic | DenseArithmetic | LrnArithmetic;

interface Geometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

const pair = (v: unknown, name: string): [number, number] => {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((n) => Number.isInteger(n))) throw new LayerChoiceError(`the layer's ${name} ${JSON.stringify(v)} is not one or two whole numbers`);
  return [a[0], a[1]];
};

/** Kernel or pool window, strides and the top/left padding of a conv or pooling layer, as tfjs applies them. */
function geometry(step: GraphStep, inH: number, inW: number, outH: number, outW: number): Geometry {
  const config = step.layer.getConfig();
  const kind = layerKind(step.layer);
  if (config.dataFormat === 'channelsFirst') throw new LayerChoiceError(`${step.layer.name}: channels-first layers are not supported`);
  const dilation = config.dilationRate === undefined ? [1, 1] : pair(config.dilationRate, 'dilation rate');
  if (dilation[0] !== 1 || dilation[1] !== 1) throw new LayerChoiceError(`${step.layer.name}: dilated convolutions are not shown unit by unit`);
  const [kh, kw] = pair(kind === 'conv' ? config.kernelSize : config.poolSize, kind === 'conv' ? 'kernel size' : 'pool size');
  const [sh, sw] = pair(config.strides ?? (kind === 'conv' ? 1 : config.poolSize), 'strides');
  const padding = config.padding as string | number;
  if (typeof padding === 'number') return { kh, kw, sh, sw, padTop: padding, padLeft: padding };
  if (padding === 'valid') return { kh, kw, sh, sw, padTop: 0, padLeft: 0 };
  // 'same': tf's total padding, the smaller half before.
  const total = (out: number, s: number, k: number, size: number) => Math.max((out - 1) * s + k - size, 0);
  return { kh, kw, sh, sw, padTop: Math.floor(total(outH, sh, kh, inH) / 2), padLeft: Math.floor(total(outW, sw, kw, inW) / 2) };
}

function applyScalarActivation(z: number, activation: Activation, all: () => Float64Array): number {
  switch (activation) {
    case 'linear':
      return z;
    case 'relu':
      return Math.max(0, z);
    case 'tanh':
      return Math.tanh(z);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'softmax': {
      const zs = all();
      const m = Math.max(...zs);
      let s = 0;
      for (const v of zs) s += Math.exp(v - m);
      return Math.exp(z - m) / s;
    }
  }
}

function knownActivation(step: GraphStep): Activation {
  const a = layerActivation(step.layer) ?? 'linear';
  if (a === 'other') throw new LayerChoiceError(`${step.layer.name}: its activation (${String(step.layer.getConfig().activation)}) is not one ConvScope computes unit by unit`);
  return a;
}

function checkUnit(unit: UnitRef, shape: number[]): void {
  const dims = shape.length === 2 ? [1, 1, shape[1]] : [shape[1], shape[2], shape[3]];
  const ok = [unit.y, unit.x, unit.channel].every((v, i) => Number.isInteger(v) && v >= 0 && v < dims[i]!);
  if (!ok) throw new LayerChoiceError(`unit (${unit.y}, ${unit.x}, channel ${unit.channel}) lies outside ${unit.layer}'s ${dims.join('x')} output`);
}

/** The arithmetic of `unit` for the input x ([1, h, w, c]). */
export async function unitArithmetic(model: tf.LayersModel, x: tf.Tensor4D, unit: UnitRef): Promise<UnitArithmetic> {
  const graph = modelGraph(model);
  const step = graph.steps.find((s) => s.layer.name === unit.layer);
  if (!step) throw new LayerChoiceError(`the model has no layer '${unit.layer}'`);
  const kind = layerKind(step.layer);
  if (!['conv', 'maxPool', 'avgPool', 'dense', 'lrn'].includes(kind)) {
    throw new LayerChoiceError(`${unit.layer} is a ${step.layer.getClassName()} layer; unit arithmetic covers conv, pooling, dense and LRN layers`);
  }
  if (step.inputs.length !== 1 || step.outputs.length !== 1) throw new LayerChoiceError(`${unit.layer} has several inputs or outputs`);
  const inShape = step.inputs[0].shape as number[];
  const outShape = step.outputs[0].shape as number[];
  checkUnit(unit, outShape);
  const [inTensor, outTensor] = tf.tidy(() => {
    const values = runGraph(graph, new Map([[graph.input.id, x as tf.Tensor]]));
    return [tf.clone(values.get(step.inputs[0].id)!), tf.clone(values.get(step.outputs[0].id)!)];
  });
  const [input, output] = (await Promise.all([inTensor.data(), outTensor.data()])) as Float32Array[];
  tf.dispose([inTensor, outTensor]);
  const weights = step.layer.getWeights();
  const weightData = (await Promise.all(weights.map((w) => w.data()))) as Float32Array[];
  const source = step.inputs[0].sourceLayer;
  const common = {
    layer: unit.layer,
    className: step.layer.getClassName(),
    inputLayer: layerKind(source) === 'input' ? 'input' : source.name,
    unit,
  };
  if (kind === 'dense') return dense(step, common, input, output, weightData, weights[0]!.shape as number[]);
  const [, inH, inW, inC] = inShape as [number, number, number, number];
  const [, outH, outW, outC] = outShape as [number, number, number, number];
  const at = (y: number, xx: number, c: number) => input[(y * inW + xx) * inC + c];
  const engineOutput = output[(unit.y * outW + unit.x) * outC + unit.channel];
  if (kind === 'lrn') return lrn(step, common, at, unit, inC, engineOutput);
  const g = geometry(step, inH, inW, outH, outW);
  const window: UnitWindow = { top: unit.y * g.sh - g.padTop, left: unit.x * g.sw - g.padLeft, height: g.kh, width: g.kw, strideY: g.sh, strideX: g.sw, inputHeight: inH, inputWidth: inW };
  const inside = (y: number, xx: number) => y >= 0 && y < inH && xx >= 0 && xx < inW;
  if (kind === 'maxPool' || kind === 'avgPool') {
    const values = new Float32Array(g.kh * g.kw);
    let best = -Infinity;
    let winner: { dy: number; dx: number } | null = null;
    let sum = 0;
    let n = 0;
    for (let dy = 0; dy < g.kh; dy++) {
      for (let dx = 0; dx < g.kw; dx++) {
        const y = window.top + dy;
        const xx = window.left + dx;
        const v = inside(y, xx) ? at(y, xx, unit.channel) : NaN;
        values[dy * g.kw + dx] = v;
        if (Number.isNaN(v)) continue;
        sum += v;
        n++;
        if (v > best) [best, winner] = [v, { dy, dx }];
      }
    }
    const op = kind === 'maxPool' ? 'max' : 'avg';
    // tf's average pooling divides by the cells inside the input (padding is not counted).
    return { kind: 'pool', ...common, op, window, values, winner: op === 'max' ? winner : null, output: op === 'max' ? best : sum / n, engineOutput };
  }
  // Convolution: kernel [kh, kw, inC / groups, filters].
  const groups = step.layer.getClassName() === 'GroupedConv2D' ? (step.layer.getConfig().groups as number) : 1;
  const perGroupIn = inC / groups;
  const group = Math.floor(unit.channel / (outC / groups));
  const inputChannels = Array.from({ length: perGroupIn }, (_, i) => group * perGroupIn + i);
  const [kernelW, biasW] = weightData;
  const size = g.kh * g.kw * perGroupIn;
  const patch = new Float32Array(size);
  const kernel = new Float32Array(size);
  const products = new Float32Array(size);
  const channelSums = new Float32Array(perGroupIn);
  let sum = 0;
  for (let dy = 0; dy < g.kh; dy++) {
    for (let dx = 0; dx < g.kw; dx++) {
      for (let i = 0; i < perGroupIn; i++) {
        const y = window.top + dy;
        const xx = window.left + dx;
        const k = (dy * g.kw + dx) * perGroupIn + i;
        patch[k] = inside(y, xx) ? at(y, xx, inputChannels[i]) : 0;
        kernel[k] = kernelW[k * outC + unit.channel];
        products[k] = patch[k] * kernel[k];
        channelSums[i] += products[k];
        sum += products[k];
      }
    }
  }
  const bias = biasW ? biasW[unit.channel] : 0;
  const activation = knownActivation(step);
  const preActivation = sum + bias;
  if (activation === 'softmax') throw new LayerChoiceError(`${unit.layer}: a softmax over a convolution's channels is not shown unit by unit`);
  const out = applyScalarActivation(preActivation, activation, () => new Float64Array());
  return { kind: 'conv', ...common, window, inputChannels, group: { index: group, count: groups }, patch, kernel, products, channelSums, sum, bias, preActivation, activation, output: out, engineOutput };
}

function dense(step: GraphStep, common: Omit<Common, 'output' | 'engineOutput'>, input: Float32Array, output: Float32Array, w: Float32Array[], kernelShape: number[]): DenseArithmetic {
  const [inN, units] = kernelShape as [number, number];
  if (input.length !== inN) throw new LayerChoiceError(`${common.layer}: its input has ${input.length} values, its kernel ${inN} rows`);
  const [kernel, biasW] = w;
  const j = common.unit.channel;
  const terms: DenseTerm[] = [];
  let sum = 0;
  for (let i = 0; i < inN; i++) {
    const product = input[i] * kernel[i * units + j];
    sum += product;
    terms.push({ index: i, input: input[i], weight: kernel[i * units + j], product });
  }
  const top = terms.sort((a, b) => Math.abs(b.product) - Math.abs(a.product)).slice(0, 10);
  const bias = biasW ? biasW[j] : 0;
  const activation = knownActivation(step);
  const preActivation = sum + bias;
  const all = () => {
    const zs = new Float64Array(units);
    for (let u = 0; u < units; u++) {
      let z = biasW ? biasW[u] : 0;
      for (let i = 0; i < inN; i++) z += input[i] * kernel[i * units + u];
      zs[u] = z;
    }
    return zs;
  };
  return {
    kind: 'dense',
    ...common,
    inputCount: inN,
    top,
    sum,
    rest: sum - top.reduce((a, t) => a + t.product, 0),
    bias,
    preActivation,
    activation,
    output: applyScalarActivation(preActivation, activation, all),
    engineOutput: output[j],
  };
}

function lrn(step: GraphStep, common: Omit<Common, 'output' | 'engineOutput'>, at: (y: number, x: number, c: number) => number, unit: UnitRef, inC: number, engineOutput: number): LrnArithmetic {
  const config = step.layer.getConfig();
  const [depthRadius, bias, alpha, beta] = [config.depthRadius, config.bias, config.alpha, config.beta] as number[];
  const channels: number[] = [];
  for (let c = Math.max(0, unit.channel - depthRadius); c <= Math.min(inC - 1, unit.channel + depthRadius); c++) channels.push(c);
  const values = Float32Array.from(channels, (c) => at(unit.y, unit.x, c));
  const squares = values.map((v) => v * v);
  const sumSquares = squares.reduce((a, b) => a + b, 0);
  const denominator = (bias + alpha * sumSquares) ** beta;
  const centre = at(unit.y, unit.x, unit.channel);
  return { kind: 'lrn', ...common, channels, values, squares, sumSquares, depthRadius, bias, alpha, beta, denominator, centre, output: centre / denominator, engineOutput };
}
