// IrGraph (NCHW, ONNX semantics) -> LayerPlan (tfjs layers, NHWC, weights in tfjs layouts).
//
// Layout: a 4-D source tensor [N, C, H, W] is an NHWC tensor here. Flattening it gives HWC order where the
// source has CHW order, so a flattened value carries `perm` (tfjs position -> source position) until a dense
// layer absorbs it by reordering its weight rows; elementwise layers pass it along.
import { lrnFromCaffe } from '../models/layers/lrn';
import type { Activation } from '../models/spec';
import { UnsupportedModelError, ImportFileError } from './errors';
import { FOLDABLE_OPS, foldNode, intTensor, shapeOf } from './fold';
import { elementCount, floatCount, floats, type ConstTensor, type FloatTensor, type IrGraph, type IrNode } from './ir';
import { MODEL_INPUT, type LayerPlan, type PlanLayer, type PlanLayerConfig, type PlanPadding } from './plan';
import { consumersOf, isSquare, matchTorchLrn, readTorchLrn, TORCH_LRN_OPS, type Consumers, type TorchLrnChain } from './torch-lrn';

/** Every op the importer turns into layers (besides the foldable shape ops and Shape). */
export const LAYER_OPS = [
  'Conv', 'Gemm', 'MatMul', 'Relu', 'Tanh', 'Sigmoid', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'LRN', 'BatchNormalization', 'Dropout', 'Flatten', 'Reshape', 'Softmax', 'Concat', 'Add', 'Sum', 'Identity', 'Pad', 'Clip',
] as const;
const SUPPORTED = new Set<string>([...LAYER_OPS, ...FOLDABLE_OPS, ...TORCH_LRN_OPS, 'Shape']);

interface TensorValue {
  kind: 'tensor';
  /** Plan layer index, or MODEL_INPUT. */
  layer: number;
  /** Per-example shape in the source's order: [C, H, W] or [features]. */
  shape: number[];
  /** For flat values: position in the tfjs tensor -> position in the source's flat order (null = same). */
  perm: Int32Array | null;
  /** Known to be >= 0 (after ReLU, max-pooling of such...): zero padding then equals -inf padding for max-pooling. */
  nonNegative: boolean;
}
type Value = TensorValue | { kind: 'const'; tensor: ConstTensor };

/** Lowers the graph; throws UnsupportedModelError naming unsupported ops or settings, ImportFileError for inconsistent shapes. */
export function lowerGraph(graph: IrGraph): LayerPlan {
  assertSupportedOps(graph.nodes.map((n) => n.op));
  return new Lowering(graph).run();
}

/** Throws UnsupportedModelError listing every op type (with its count) that the importer cannot convert. */
export function assertSupportedOps(ops: readonly string[]): void {
  const unsupported = new Map<string, number>();
  for (const op of ops) if (!SUPPORTED.has(op)) unsupported.set(op, (unsupported.get(op) ?? 0) + 1);
  if (unsupported.size > 0) {
    const list = [...unsupported].map(([op, n]) => `${op} (${n}x)`).join(', ');
    throw new UnsupportedModelError(`the model uses operations ConvScope cannot import: ${list}. Supported: ${LAYER_OPS.join(', ')}, constant shape arithmetic, and torch's nn.LocalResponseNorm decomposition`);
  }
}

class Lowering {
  private readonly values = new Map<string, Value>();
  private readonly layers: PlanLayer[] = [];
  private readonly uses = new Map<string, number>();
  private readonly names = new Set<string>();
  private readonly notes: string[] = [];
  private readonly dilatedConvs: string[] = [];
  private readonly consumers: Consumers;
  /** torch LocalResponseNorm chains found so far, by each of their nodes. */
  private readonly lrnChains = new Map<IrNode, TorchLrnChain>();

  constructor(private readonly graph: IrGraph) {
    for (const [name, tensor] of graph.constants) this.values.set(name, { kind: 'const', tensor });
    const [c, h, w] = graph.input.shape;
    this.values.set(graph.input.name, { kind: 'tensor', layer: MODEL_INPUT, shape: [c, h, w], perm: null, nonNegative: false });
    for (const n of graph.nodes) for (const i of n.inputs) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    this.uses.set(graph.output, (this.uses.get(graph.output) ?? 0) + 1);
    this.consumers = consumersOf(graph);
  }

  run(): LayerPlan {
    for (const node of this.graph.nodes) this.lower(node);
    if (this.dilatedConvs.length) {
      this.notes.push(`dilated convolutions (${this.dilatedConvs.join(', ')}): TensorFlow.js computes them but not their gradients, so saliency, Grad-CAM and training do not work with this model`);
    }
    const out = this.values.get(this.graph.output);
    if (!out) throw new ImportFileError(`no node computes the graph output ${this.graph.output}`);
    if (out.kind !== 'tensor' || out.layer === MODEL_INPUT) throw new UnsupportedModelError(`the graph output ${this.graph.output} is not computed by any layer`);
    if (out.perm) throw new UnsupportedModelError('the model outputs a flattened feature map; ConvScope keeps feature maps channels-last, so its order would differ');
    const plan: LayerPlan = { name: this.graph.name, input: [this.graph.input.shape[1], this.graph.input.shape[2], this.graph.input.shape[0]], layers: this.layers, output: out.layer, notes: this.notes };
    return fuseActivations(prune(plan));
  }

  private lower(node: IrNode): void {
    const chain = this.lrnChains.get(node);
    if (chain) {
      // The chain's inner values are never materialised; its Div (its last node) becomes one LRN layer.
      if (node === chain.div) this.values.set(node.outputs[0], this.torchLrn(chain));
      return;
    }
    if (isSquare(node) && this.values.get(node.inputs[0])?.kind === 'tensor') {
      const found = matchTorchLrn(node, this.consumers, this.graph.output);
      for (const n of found.nodes) this.lrnChains.set(n, found);
      return;
    }
    const inputs = node.inputs.map((name) => {
      if (!name) return null; // omitted optional input
      const v = this.values.get(name);
      if (!v) throw new ImportFileError(`${node.op} node ${node.name} needs ${name}, which is neither the input, a weight nor any earlier node's output`);
      return v;
    });
    if (node.op === 'Shape') {
      const v = inputs[0];
      if (v?.kind === 'const') return this.setConst(node, intTensor([v.tensor.dims.length], v.tensor.dims)); // torch's F.pad asks a constant's length
      return this.setConst(node, shapeOf(this.tensor(node, inputs, 0).shape));
    }
    if (FOLDABLE_OPS.has(node.op) && inputs.every((v) => v === null || v.kind === 'const')) {
      return this.setConst(node, foldNode(node, inputs.map((v) => (v ? (v as { tensor: ConstTensor }).tensor : null)), this.graph.opset));
    }
    const out = this.lowerLayer(node, inputs);
    this.values.set(node.outputs[0], out);
    for (const extra of node.outputs.slice(1)) {
      if (extra && this.uses.has(extra)) throw new UnsupportedModelError(`${node.op} node ${node.name}: its extra output ${extra} is used, which ConvScope does not support`);
    }
  }

  private setConst(node: IrNode, tensor: ConstTensor): void {
    this.values.set(node.outputs[0], { kind: 'const', tensor });
  }

  private lowerLayer(node: IrNode, inputs: (Value | null)[]): Value {
    const a = node.attrs;
    switch (node.op) {
      case 'Identity':
        return this.tensor(node, inputs, 0);
      case 'Relu':
      case 'Tanh':
      case 'Sigmoid': {
        const x = this.tensor(node, inputs, 0);
        const activation = node.op.toLowerCase() as Activation;
        return this.add(node, [x], { kind: 'activation', activation }, [], x.shape, x.perm, activation !== 'tanh');
      }
      case 'Softmax': {
        const x = this.tensor(node, inputs, 0);
        const rank = x.shape.length + 1;
        const axis = norm(num(a.axis, this.graph.opset >= 13 ? -1 : 1), rank);
        if (!(axis === rank - 1 || (rank === 4 && axis === 1 && this.graph.opset >= 13))) {
          this.fail(node, `softmax over axis ${axis} of a rank-${rank} tensor is not supported (only over the features or channels)`);
        }
        return this.add(node, [x], { kind: 'activation', activation: 'softmax' }, [], x.shape, x.perm, true);
      }
      case 'Dropout': {
        const x = this.tensor(node, inputs, 0);
        const ratio = inputs[1]?.kind === 'const' ? floats(inputs[1].tensor as FloatTensor)[0] : num(a.ratio, 0.5);
        return this.add(node, [x], { kind: 'dropout', rate: ratio }, [], x.shape, x.perm, x.nonNegative);
      }
      case 'Clip':
        return this.clip(node, inputs);
      case 'Pad':
        return this.pad(node, inputs);
      case 'Conv':
        return this.conv(node, inputs);
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(node, inputs);
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const x = this.spatial(node, inputs, 0);
        const [c, h, w] = x.shape;
        const kind = node.op === 'GlobalMaxPool' ? 'maxPool' : 'avgPool';
        return this.add(node, [x], { kind, size: [h, w], strides: [h, w], padding: 'valid' }, [], [c, 1, 1], null, x.nonNegative);
      }
      case 'LRN': {
        const x = this.spatial(node, inputs, 0);
        const size = num(a.size, 0);
        if (!(Number.isInteger(size) && size >= 1 && size % 2 === 1)) this.fail(node, `LRN size must be an odd whole number (tfjs' window is symmetric), got ${size}`);
        const params = lrnFromCaffe({ localSize: size, alpha: num(a.alpha, 1e-4), beta: num(a.beta, 0.75), k: num(a.bias, 1) });
        return this.add(node, [x], { kind: 'lrn', ...params }, [], x.shape, null, x.nonNegative);
      }
      case 'BatchNormalization':
        return this.batchNorm(node, inputs);
      case 'Mul':
      case 'Div':
      case 'Pow':
      case 'Equal':
      case 'If':
        return this.fail(node, "this operation on tensors is supported only inside torch's nn.LocalResponseNorm decomposition (Mul(x, x) ... Div(x, (k + alpha * AveragePool(x^2))^beta))");
      case 'Flatten': {
        const x = this.tensor(node, inputs, 0);
        const axis = norm(num(a.axis, 1), x.shape.length + 1);
        if (axis !== 1) this.fail(node, `only Flatten with axis 1 (keep the batch axis) is supported, got ${axis}`);
        return this.flatten(node, x);
      }
      case 'Reshape':
        return this.reshape(node, inputs);
      case 'Gemm':
        return this.gemm(node, inputs);
      case 'MatMul': {
        const x = this.flat(node, inputs, 0);
        const b = this.floatConst(node, inputs, 1, 'B');
        if (b.dims.length !== 2) this.fail(node, `B must be a 2-D weight matrix, got ${b.dims.join('x')}`);
        return this.dense(node, x, b, false, 1, null, 1);
      }
      case 'Add':
      case 'Sum':
        return this.addOp(node, inputs);
      case 'Concat':
        return this.concat(node, inputs);
      default:
        return this.fail(node, 'this operation is not supported');
    }
  }

  // ---- layers ----

  private torchLrn(chain: TorchLrnChain): Value {
    const x = this.tensor(chain.square, [this.values.get(chain.square.inputs[0]) ?? null], 0);
    const constant = (name: string) => {
      const v = this.values.get(name);
      return v?.kind === 'const' ? v.tensor : null;
    };
    const lrn = readTorchLrn(chain, { x: x.shape, constant, opset: this.graph.opset, batch: this.graph.input.batch });
    // Named after the module: "/features/features.2/Div" -> "/features/features.2/LocalResponseNorm".
    const slash = chain.div.name.lastIndexOf('/');
    const name = slash > 0 ? `${chain.div.name.slice(0, slash)}/LocalResponseNorm` : `${chain.div.name}_LocalResponseNorm`;
    this.notes.push(`${name}: torch's LocalResponseNorm decomposition (${chain.nodes.size} nodes) read as one LRN: size ${lrn.size}, alpha ${lrn.alpha}, beta ${lrn.beta}, k ${lrn.k}`);
    return this.add({ ...chain.div, name }, [x], { kind: 'lrn', ...lrn.params }, [], x.shape, null, x.nonNegative);
  }

  private conv(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.spatial(node, inputs, 0);
    const w = this.floatConst(node, inputs, 1, 'weights');
    const [c, h, wd] = x.shape;
    if (w.dims.length !== 4) this.fail(node, `its weights must be 4-D (out, in/groups, kh, kw), got ${w.dims.join('x')}`);
    const [m, cg, kh, kw] = w.dims;
    const groups = num(this.attr(node, 'group'), 1);
    const kernelAttr = ints(node.attrs.kernel_shape);
    if (kernelAttr && (kernelAttr[0] !== kh || kernelAttr[1] !== kw)) this.mismatch(node, `kernel_shape ${kernelAttr.join('x')} disagrees with its ${kh}x${kw} weights`);
    if (c % groups !== 0 || m % groups !== 0) this.fail(node, `${c} input channels and ${m} filters cannot be split into ${groups} groups`);
    if (cg !== c / groups) this.mismatch(node, `its weights expect ${cg * groups} input channels (${cg} per group x ${groups}) but it receives ${c}`);
    const dilation = (ints(node.attrs.dilations) ?? [1, 1]) as [number, number];
    const dilated = dilation.some((d) => d !== 1);
    const strides = (ints(node.attrs.strides) ?? [1, 1]) as [number, number];
    if (dilated) {
      if (dilation.length !== 2 || dilation.some((d) => !(Number.isInteger(d) && d >= 1))) this.fail(node, `dilations must be two whole numbers >= 1, got ${dilation.join(',')}`);
      if (groups > 1) this.fail(node, `a dilated grouped convolution (dilations ${dilation.join(',')}, ${groups} groups) is not supported`);
      if (strides.some((s) => s !== 1)) this.fail(node, `a dilated convolution with strides ${strides.join(',')} is not supported (tfjs takes dilation or stride, not both)`);
    }
    // The window a dilated kernel spans.
    const [ekh, ekw] = [(kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1];
    const pads = this.explicitPads(node, [h, wd], [ekh, ekw], strides);
    const oh = Math.floor((h + pads[0] + pads[2] - ekh) / strides[0]) + 1;
    const ow = Math.floor((wd + pads[1] + pads[3] - ekw) / strides[1]) + 1;
    if (!(oh >= 1 && ow >= 1)) this.fail(node, `its ${kh}x${kw} kernel does not fit the ${h}x${wd} input`);

    const bias = inputs[2] ? this.floatConst(node, inputs, 2, 'bias') : null;
    if (bias && elementCount(bias.dims) !== m) this.mismatch(node, `its bias has ${elementCount(bias.dims)} values for ${m} filters`);
    const weights = [{ shape: [kh, kw, cg, m], values: oihwToHwio(floats(w), m, cg, kh, kw) }];
    if (bias) weights.push({ shape: [m], values: floats(bias).slice() });

    let padding: PlanPadding;
    let src: TensorValue = x;
    const symmetric = pads[0] === pads[2] && pads[1] === pads[3] && pads[0] === pads[1];
    if (pads.every((p) => p === 0)) padding = 'valid';
    else if (symmetric && kh === kw && !dilated) padding = pads[0];
    else if (pads[0] === pads[2] && pads[1] === pads[3] && strides[0] === 1 && strides[1] === 1 && 2 * pads[0] === ekh - 1 && 2 * pads[1] === ekw - 1) padding = 'same';
    else {
      src = this.add({ ...node, name: `${node.name}_pad` }, [x], { kind: 'zeroPad', pads: [[pads[0], pads[2]], [pads[1], pads[3]]] }, [], [c, h + pads[0] + pads[2], wd + pads[1] + pads[3]], null, false);
      padding = 'valid';
    }
    if (groups > 1 && kh !== kw) this.fail(node, `a grouped convolution with a non-square ${kh}x${kw} kernel is not supported`);
    const config: PlanLayerConfig = { kind: 'conv', filters: m, kernel: [kh, kw], strides, padding, groups, activation: 'linear', useBias: bias !== null, ...(dilated ? { dilation } : {}) };
    if (dilated) this.dilatedConvs.push(node.name);
    return this.add(node, [src], config, weights, [m, oh, ow], null, false);
  }

  /** ReLU6 and other clips at 0 from below: a ReLU layer with a ceiling. */
  private clip(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.tensor(node, inputs, 0);
    const bound = (i: number, attr: string): number | null => {
      if (this.graph.opset < 11) return typeof node.attrs[attr] === 'number' ? (node.attrs[attr] as number) : null;
      const v = inputs[i];
      if (!v) return null;
      if (v.kind !== 'const' || v.tensor.kind !== 'float' || elementCount(v.tensor.dims) !== 1) return this.fail(node, `its ${attr} must be a constant number`);
      return floats(v.tensor)[0];
    };
    const lo = bound(1, 'min');
    const hi = bound(2, 'max');
    if (lo !== 0 || (hi !== null && !(hi > 0))) {
      this.fail(node, `clipping to [${lo ?? '-inf'}, ${hi ?? 'inf'}] is not supported (only clips from 0, as ReLU and ReLU6)`);
    }
    if (hi === null || hi === Infinity) return this.add(node, [x], { kind: 'activation', activation: 'relu' }, [], x.shape, x.perm, true);
    return this.add(node, [x], { kind: 'relu', maxValue: hi }, [], x.shape, x.perm, true);
  }

  /** Constant zero padding of the spatial axes: a ZeroPadding2D layer, or nothing when every pad is 0 (torch's default AvgPool2d). */
  private pad(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.spatial(node, inputs, 0);
    const mode = typeof node.attrs.mode === 'string' ? node.attrs.mode : 'constant';
    if (mode !== 'constant') this.fail(node, `${mode} padding is not supported (only constant zero padding)`);
    let pads: number[];
    let value = 0;
    if (this.graph.opset < 11) {
      pads = ints(node.attrs.pads) ?? this.fail(node, 'it has no pads');
      value = num(node.attrs.value, 0);
    } else {
      const p = inputs[1];
      if (!p || p.kind !== 'const' || p.tensor.kind !== 'int') return this.fail(node, 'its pads must be an integer constant');
      pads = p.tensor.data.map((d) => (d === 'N' ? this.fail(node, 'its pads depend on the batch size') : d));
      const v = inputs[2];
      if (v) {
        if (v.kind !== 'const' || v.tensor.kind !== 'float' || elementCount(v.tensor.dims) !== 1) this.fail(node, 'its constant_value must be a constant number');
        value = floats(v.tensor as FloatTensor)[0];
      }
      if (inputs[3]) this.fail(node, 'padding with an axes input is not supported');
    }
    if (pads.length !== 8) this.fail(node, `pads must have 8 values for a 4-D tensor, got ${pads.length}`);
    if (value !== 0) this.fail(node, `padding with ${value} is not supported (only zeros)`);
    const [nb, cb, top, left, ne, ce, bottom, right] = pads;
    if (nb || cb || ne || ce) this.fail(node, 'padding the batch or channel axis is not supported');
    if ([top, left, bottom, right].some((p) => !(Number.isInteger(p) && p >= 0))) this.fail(node, `negative pads (cropping) are not supported, got ${pads.join(',')}`);
    if (top + left + bottom + right === 0) return x;
    const [c, h, w] = x.shape;
    return this.add(node, [x], { kind: 'zeroPad', pads: [[top, bottom], [left, right]] }, [], [c, h + top + bottom, w + left + right], null, x.nonNegative);
  }

  private pool(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.spatial(node, inputs, 0);
    const [c, h, w] = x.shape;
    const kernel = (ints(node.attrs.kernel_shape) ?? this.fail(node, 'it has no kernel_shape')) as [number, number];
    const strides = (ints(node.attrs.strides) ?? [1, 1]) as [number, number];
    if ((ints(node.attrs.dilations) ?? [1, 1]).some((d) => d !== 1)) this.fail(node, 'dilated pooling is not supported');
    const ceil = num(node.attrs.ceil_mode, 0) === 1;
    const pads = this.explicitPads(node, [h, w], kernel, strides);
    const out = [0, 1].map((i) => poolOutput([h, w][i], kernel[i], strides[i], pads[i], pads[i + 2], ceil));
    if (out.some((o) => !(o >= 1))) this.fail(node, `its ${kernel.join('x')} window does not fit the ${h}x${w} input`);
    // A 1x1 window with stride 1 (torch's adaptive pooling when the size already fits) changes nothing.
    if (kernel[0] === 1 && kernel[1] === 1 && strides[0] === 1 && strides[1] === 1 && pads.every((p) => p === 0)) return x;
    const isMax = node.op === 'MaxPool';
    const kind = isMax ? 'maxPool' : 'avgPool';
    const shape = [c, out[0], out[1]];
    const fits = (p: 'valid' | 'same') => [0, 1].every((i) => tfjsPoolMatches(p, [h, w][i], kernel[i], strides[i], pads[i], out[i]));
    const excludesPad = num(node.attrs.count_include_pad, 0) === 0;
    if (fits('valid')) return this.add(node, [x], { kind, size: kernel, strides, padding: 'valid' }, [], shape, null, x.nonNegative);
    if (fits('same') && (isMax || excludesPad)) return this.add(node, [x], { kind, size: kernel, strides, padding: 'same' }, [], shape, null, x.nonNegative);
    if ((!isMax && !excludesPad) || (isMax && x.nonNegative)) {
      // Padded zeros count in the average (count_include_pad), and act as -inf for max-pooling of values >= 0.
      // Pad the end so that a valid pool yields `out` windows.
      const end = [0, 1].map((i) => Math.max(0, (out[i] - 1) * strides[i] + kernel[i] - [h, w][i] - pads[i]));
      // Ceil mode's last window past the end padding averages fewer values in the source: not zeros.
      if (!isMax && end.some((e, i) => e > pads[i + 2])) this.fail(node, `average pooling in ceil mode past its padding (${pads.join(',')}) has no tfjs equivalent`);
      const ph = h + pads[0] + end[0];
      const pw = w + pads[1] + end[1];
      const padded = this.add({ ...node, name: `${node.name}_pad` }, [x], { kind: 'zeroPad', pads: [[pads[0], end[0]], [pads[1], end[1]]] }, [], [c, ph, pw], null, true);
      if (poolOutput(ph, kernel[0], strides[0], 0, 0, false) === out[0] && poolOutput(pw, kernel[1], strides[1], 0, 0, false) === out[1]) {
        return this.add(node, [padded], { kind, size: kernel, strides, padding: 'valid' }, [], shape, null, x.nonNegative);
      }
    }
    return this.fail(node, `its padding (${pads.join(',')}${ceil ? ', ceil mode' : ''}) has no tfjs equivalent for this input`);
  }

  private batchNorm(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.tensor(node, inputs, 0);
    if (x.perm) this.fail(node, 'batch normalisation of a flattened feature map is not supported');
    const channels = x.shape[0];
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => {
      const t = this.floatConst(node, inputs, i, ['scale', 'bias', 'mean', 'variance'][i - 1]);
      if (elementCount(t.dims) !== channels) this.mismatch(node, `its ${['scale', 'bias', 'mean', 'variance'][i - 1]} has ${elementCount(t.dims)} values for ${channels} channels`);
      return { shape: [channels], values: floats(t).slice() };
    });
    const epsilon = num(node.attrs.epsilon, 1e-5);
    return this.add(node, [x], { kind: 'batchNorm', epsilon }, [gamma, beta, mean, variance], x.shape, null, false);
  }

  private flatten(node: IrNode, x: TensorValue): Value {
    if (x.shape.length === 1) return x;
    const [c, h, w] = x.shape;
    const perm = h * w === 1 || c === 1 ? null : chwOrderOfHwc(c, h, w);
    return this.add(node, [x], { kind: 'flatten' }, [], [c * h * w], perm, x.nonNegative);
  }

  private reshape(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.tensor(node, inputs, 0);
    const target = inputs[1]?.kind === 'const' ? inputs[1].tensor : Array.isArray(node.attrs.shape) ? { kind: 'int' as const, dims: [node.attrs.shape.length], data: node.attrs.shape } : null;
    if (!target || target.kind !== 'int') return this.fail(node, 'its target shape is not a constant');
    const full = [1, ...x.shape];
    const size = elementCount(x.shape);
    const dims = target.data.map((d, i) => (d === 'N' ? 1 : d === 0 ? full[i] : d));
    if (dims.length === 0 || !(dims[0] === 1 || dims[0] === -1)) {
      const batch = this.graph.input.batch;
      const baked = batch !== undefined && batch > 1 && dims[0] === batch ? ` (the file was exported with a fixed batch of ${batch}, which x.view(x.size(0), -1) turned into a constant)` : '';
      this.fail(node, `reshaping across the batch axis (to ${target.data.join('x')}) is not supported${baked}; export the model with batch 1 (an input of torch.randn(1, ...)) or with a dynamic batch axis (dynamic_axes={'input': {0: 'batch'}})`);
    }
    const rest = dims.slice(1);
    const known = rest.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    const resolved = rest.map((d) => (d === -1 ? size / known : d));
    if (elementCount(resolved) !== size || resolved.some((d) => !Number.isInteger(d) || d < 1)) {
      this.fail(node, `cannot reshape ${x.shape.join('x')} (${size} values per example) to ${target.data.join('x')}`);
    }
    if (resolved.length === x.shape.length && resolved.every((d, i) => d === x.shape[i])) return x;
    if (resolved.length === 1) return this.flatten(node, x);
    return this.fail(node, `reshaping ${x.shape.join('x')} to ${resolved.join('x')} is not supported (only flattening)`);
  }

  private gemm(node: IrNode, inputs: (Value | null)[]): Value {
    const x = this.flat(node, inputs, 0);
    if (num(node.attrs.transA, 0) !== 0) this.fail(node, 'transA=1 (transposed activations) is not supported');
    const b = this.floatConst(node, inputs, 1, 'B');
    if (b.dims.length !== 2) this.fail(node, `B must be a 2-D weight matrix, got ${b.dims.join('x')}`);
    const c = inputs[2] ? this.floatConst(node, inputs, 2, 'C') : null;
    return this.dense(node, x, b, num(node.attrs.transB, 0) === 1, num(node.attrs.alpha, 1), c, num(node.attrs.beta, 1));
  }

  private dense(node: IrNode, x: TensorValue, b: FloatTensor, transB: boolean, alpha: number, c: FloatTensor | null, beta: number): Value {
    const [k, m] = transB ? [b.dims[1], b.dims[0]] : b.dims;
    if (k !== x.shape[0]) this.mismatch(node, `its weights take ${k} inputs but it receives ${x.shape[0]} (${describeSource(x)})`);
    const kernel = denseKernel(floats(b), k, m, transB, alpha, x.perm);
    const weights = [{ shape: [k, m], values: kernel }];
    if (c) {
      const n = elementCount(c.dims);
      if (n !== m && n !== 1) this.mismatch(node, `its bias C has ${n} values for ${m} outputs`);
      const cv = floats(c);
      weights.push({ shape: [m], values: Float32Array.from({ length: m }, (_, i) => beta * cv[n === 1 ? 0 : i]) });
    }
    if (x.perm) this.notes.push(`${node.name}: weight rows reordered from the source's channels-first flatten order to channels-last`);
    return this.add(node, [x], { kind: 'dense', units: m, activation: 'linear', useBias: c !== null }, weights, [m], null, false);
  }

  private addOp(node: IrNode, inputs: (Value | null)[]): Value {
    if (inputs.length !== 2) this.fail(node, `only adding two tensors is supported, got ${inputs.length}`);
    const [p, q] = inputs as Value[];
    if (p.kind === 'tensor' && q.kind === 'tensor') {
      if (p.shape.join() !== q.shape.join()) this.fail(node, `it adds tensors of shapes ${p.shape.join('x')} and ${q.shape.join('x')} (broadcasting is not supported)`);
      if (!samePerm(p.perm, q.perm)) this.fail(node, 'it adds flattened tensors of different orders');
      return this.add(node, [p, q], { kind: 'add' }, [], p.shape, p.perm, p.nonNegative && q.nonNegative);
    }
    // tensor + constant: a bias for the dense or conv layer without one that produced the tensor (MatMul + Add).
    const xi = p.kind === 'tensor' ? 0 : 1;
    const x = inputs[xi] as TensorValue;
    const k = inputs[1 - xi] as Value;
    const bias = k.kind === 'const' && k.tensor.kind === 'float' ? k.tensor : null;
    const producer = x.layer === MODEL_INPUT ? null : this.layers[x.layer];
    const cfg = producer?.config;
    const units = cfg?.kind === 'dense' ? cfg.units : cfg?.kind === 'conv' ? cfg.filters : -1;
    const singleUse = this.uses.get(node.inputs[xi]) === 1;
    if (bias && (cfg?.kind === 'dense' || cfg?.kind === 'conv') && !cfg.useBias && singleUse && elementCount(bias.dims) === units && (cfg.kind === 'dense' || bias.dims.filter((d) => d !== 1).length <= 1)) {
      cfg.useBias = true;
      producer!.weights.push({ shape: [units], values: floats(bias).slice() });
      return x;
    }
    return this.fail(node, 'adding a constant is supported only as the bias of the MatMul or Conv right before it');
  }

  private concat(node: IrNode, inputs: (Value | null)[]): Value {
    const xs = inputs.map((_, i) => this.tensor(node, inputs, i));
    const rank = xs[0].shape.length + 1;
    const axis = norm(num(node.attrs.axis, 1), rank);
    if (axis !== 1) this.fail(node, `only concatenation along the channel/feature axis is supported, got axis ${axis}`);
    if (xs.some((x) => x.shape.length !== xs[0].shape.length || x.shape.slice(1).join() !== xs[0].shape.slice(1).join())) {
      this.fail(node, `its inputs' shapes (${xs.map((x) => x.shape.join('x')).join(', ')}) differ outside the concatenation axis`);
    }
    if (xs.some((x) => x.perm)) this.fail(node, 'concatenating flattened feature maps is not supported');
    const shape = [xs.reduce((s, x) => s + x.shape[0], 0), ...xs[0].shape.slice(1)];
    return this.add(node, xs, { kind: 'concat' }, [], shape, null, xs.every((x) => x.nonNegative));
  }

  // ---- helpers ----

  /** ONNX pads [top, left, bottom, right] from pads or auto_pad. */
  private explicitPads(node: IrNode, size: [number, number], kernel: [number, number], strides: [number, number]): [number, number, number, number] {
    const auto = typeof node.attrs.auto_pad === 'string' ? node.attrs.auto_pad : 'NOTSET';
    if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
      const total = [0, 1].map((i) => Math.max(0, (Math.ceil(size[i] / strides[i]) - 1) * strides[i] + kernel[i] - size[i]));
      const begin = total.map((t) => (auto === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
      return [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]];
    }
    if (auto === 'VALID') return [0, 0, 0, 0];
    const pads = ints(node.attrs.pads) ?? [0, 0, 0, 0];
    if (pads.length !== 4 || pads.some((p) => !(Number.isInteger(p) && p >= 0))) this.fail(node, `pads must be four whole numbers >= 0, got ${pads.join(',')}`);
    return pads as [number, number, number, number];
  }

  private attr(node: IrNode, name: string): number | undefined {
    const v = node.attrs[name];
    return typeof v === 'number' ? v : undefined;
  }

  private tensor(node: IrNode, inputs: (Value | null)[], i: number): TensorValue {
    const v = inputs[i];
    if (!v) return this.fail(node, `its input #${i} is missing`);
    if (v.kind !== 'tensor') return this.fail(node, `its input #${i} (${node.inputs[i]}) is a constant, which ConvScope supports only as weights`);
    return v;
  }

  private spatial(node: IrNode, inputs: (Value | null)[], i: number): TensorValue {
    const x = this.tensor(node, inputs, i);
    if (x.shape.length !== 3) this.fail(node, `it needs a channels x height x width feature map, got ${x.shape.join('x')} per example`);
    return x;
  }

  private flat(node: IrNode, inputs: (Value | null)[], i: number): TensorValue {
    const x = this.tensor(node, inputs, i);
    if (x.shape.length !== 1) this.fail(node, `it needs a flat input (flatten first), got ${x.shape.join('x')} per example`);
    return x;
  }

  private floatConst(node: IrNode, inputs: (Value | null)[], i: number, what: string): FloatTensor {
    const v = inputs[i];
    if (!v) return this.fail(node, `its ${what} input is missing`);
    if (v.kind !== 'const' || v.tensor.kind !== 'float') return this.fail(node, `its ${what} (${node.inputs[i]}) must be a float constant (weights computed at run time are not supported)`);
    if (floatCount(v.tensor) !== elementCount(v.tensor.dims)) throw new ImportFileError(`${node.name}: ${what} holds the wrong number of values`);
    return v.tensor;
  }

  private add(node: IrNode, inputs: TensorValue[], config: PlanLayerConfig, weights: PlanLayer['weights'], shape: number[], perm: Int32Array | null, nonNegative: boolean): TensorValue {
    this.layers.push({ name: this.layerName(node.name, config.kind), inputs: inputs.map((x) => x.layer), config, weights, source: node.name });
    return { kind: 'tensor', layer: this.layers.length - 1, shape, perm, nonNegative };
  }

  private layerName(source: string, kind: string): string {
    // "/features/features.3/Conv" -> "features_3_Conv": drop path parts repeated in the next part.
    const parts = source.split('/').filter(Boolean);
    const kept = parts.filter((p, i) => !(i + 1 < parts.length && parts[i + 1].startsWith(p)));
    let base = kept.join('_').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^[^A-Za-z]+/, '').replace(/_+$/, '');
    if (!base) base = kind;
    let name = base;
    for (let n = 2; this.names.has(name) || name === 'input'; n++) name = `${base}_${n}`;
    this.names.add(name);
    return name;
  }

  private fail(node: IrNode, why: string): never {
    throw new UnsupportedModelError(`${node.op} node ${node.name}: ${why}`);
  }

  /** Weights whose shapes disagree with the values reaching them: a broken file or mismatched structure. */
  private mismatch(node: IrNode, why: string): never {
    throw new ImportFileError(`${node.op} node ${node.name}: ${why}`);
  }
}

// ---- pure helpers ----

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' ? v : fallback;
}

function ints(v: unknown): number[] | null {
  return Array.isArray(v) ? (v as number[]) : null;
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function samePerm(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function describeSource(x: TensorValue): string {
  return x.perm ? 'a flattened feature map' : `${x.shape[0]} features`;
}

/** Output size of ONNX/Caffe pooling on one axis (ceil mode drops a last window that would start in the end padding). */
function poolOutput(n: number, k: number, s: number, begin: number, end: number, ceil: boolean): number {
  const span = n + begin + end - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + begin) out--;
  return out;
}

/** Whether tfjs pooling with this padding visits the same (clipped) windows as the source on one axis. */
function tfjsPoolMatches(padding: 'valid' | 'same', n: number, k: number, s: number, begin: number, out: number): boolean {
  if (padding === 'valid') return begin === 0 && n >= k && out === Math.floor((n - k) / s) + 1;
  const o = Math.ceil(n / s);
  const total = Math.max((o - 1) * s + k - n, 0);
  return out === o && begin === Math.floor(total / 2);
}

/** OIHW [m, cg, kh, kw] -> HWIO [kh, kw, cg, m]. */
function oihwToHwio(w: Float32Array, m: number, cg: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  let src = 0;
  for (let o = 0; o < m; o++) {
    for (let i = 0; i < cg; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * cg + i) * m + o] = w[src++];
      }
    }
  }
  return out;
}

/** For a [c, h, w] map flattened channels-last: tfjs position -> the source's channels-first position. */
function chwOrderOfHwc(c: number, h: number, w: number): Int32Array {
  const perm = new Int32Array(c * h * w);
  let p = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) perm[p++] = (ch * h + y) * w + x;
  return perm;
}

/**
 * tfjs Dense kernel [k, m] from B ([m, k] when transB), scaled by alpha, rows reordered by perm. Transposing
 * walks 64x64 tiles of the source (rows through the inverse permutation) so that AlexNet's 37M-value fc6
 * is read and written in cache-friendly runs.
 */
function denseKernel(b: Float32Array, k: number, m: number, transB: boolean, alpha: number, perm: Int32Array | null): Float32Array {
  const out = new Float32Array(k * m);
  const dest = new Int32Array(k);
  for (let row = 0; row < k; row++) dest[perm ? perm[row] : row] = row;
  if (!transB) {
    for (let src = 0; src < k; src++) {
      const from = src * m;
      const to = dest[src] * m;
      for (let j = 0; j < m; j++) out[to + j] = alpha * b[from + j];
    }
    return out;
  }
  const T = 64;
  for (let s0 = 0; s0 < k; s0 += T) {
    const s1 = Math.min(s0 + T, k);
    for (let j0 = 0; j0 < m; j0 += T) {
      const j1 = Math.min(j0 + T, m);
      for (let src = s0; src < s1; src++) {
        const to = dest[src] * m;
        for (let j = j0; j < j1; j++) out[to + j] = alpha * b[j * k + src];
      }
    }
  }
  return out;
}

/** Keeps only the layers the output depends on, renumbered. */
function prune(plan: LayerPlan): LayerPlan {
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (i === MODEL_INPUT || needed.has(i)) return;
    needed.add(i);
    plan.layers[i].inputs.forEach(visit);
  };
  visit(plan.output);
  return renumber(plan, (i) => needed.has(i));
}

/** Folds an activation layer into the conv or dense layer before it when nothing else reads that layer's output. */
function fuseActivations(plan: LayerPlan): LayerPlan {
  const consumers = new Map<number, number>();
  for (const l of plan.layers) for (const i of l.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const removed = new Set<number>();
  const redirect = new Map<number, number>();
  plan.layers.forEach((layer, i) => {
    if (layer.config.kind !== 'activation') return;
    const p = layer.inputs[0];
    const prev = plan.layers[p];
    if (!prev || consumers.get(p) !== 1 || p === plan.output) return;
    const act = layer.config.activation;
    const ok = (prev.config.kind === 'dense' || (prev.config.kind === 'conv' && act !== 'softmax')) && prev.config.activation === 'linear';
    if (!ok) return;
    (prev.config as { activation: Activation }).activation = act;
    removed.add(i);
    redirect.set(i, p);
  });
  const resolve = (i: number): number => (redirect.has(i) ? resolve(redirect.get(i)!) : i);
  for (const l of plan.layers) l.inputs = l.inputs.map(resolve);
  return renumber({ ...plan, output: resolve(plan.output) }, (i) => !removed.has(i));
}

function renumber(plan: LayerPlan, keep: (i: number) => boolean): LayerPlan {
  const index = new Map<number, number>();
  const layers: PlanLayer[] = [];
  plan.layers.forEach((l, i) => {
    if (!keep(i)) return;
    index.set(i, layers.length);
    layers.push(l);
  });
  const map = (i: number) => (i === MODEL_INPUT ? MODEL_INPUT : index.get(i)!);
  return { ...plan, layers: layers.map((l) => ({ ...l, inputs: l.inputs.map(map) })), output: map(plan.output) };
}
