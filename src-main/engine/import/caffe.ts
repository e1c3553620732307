// Caffe model (.caffemodel weights, optionally a deploy .prototxt for the structure) -> IrGraph.
// Caffe layers become the ONNX ops the lowering knows; in-place layers (top == bottom) get fresh value names.
import { ImportFileError, UnsupportedModelError } from './errors';
import { elementCount, float32Value, type AttrValue, type ConstTensor, type FloatTensor, type IrGraph, type IrNode } from './ir';
import { caffeNetType } from './caffe-schema';
import { parsePrototxt } from './prototxt';

// protobufjs messages are untyped.
type Msg = any;

const V1_TYPES: Record<number, string> = {
  35: 'AbsVal', 1: 'Accuracy', 30: 'ArgMax', 2: 'BNLL', 3: 'Concat', 37: 'ContrastiveLoss', 4: 'Convolution', 5: 'Data',
  39: 'Deconvolution', 6: 'Dropout', 32: 'DummyData', 7: 'EuclideanLoss', 25: 'Eltwise', 38: 'Exp', 8: 'Flatten', 9: 'HDF5Data',
  10: 'HDF5Output', 28: 'HingeLoss', 11: 'Im2col', 12: 'ImageData', 13: 'InfogainLoss', 14: 'InnerProduct', 15: 'LRN',
  29: 'MemoryData', 16: 'MultinomialLogisticLoss', 34: 'MVN', 17: 'Pooling', 26: 'Power', 18: 'ReLU', 19: 'Sigmoid',
  27: 'SigmoidCrossEntropyLoss', 36: 'Silence', 20: 'Softmax', 21: 'SoftmaxWithLoss', 22: 'Split', 33: 'Slice', 23: 'TanH',
  24: 'WindowData', 31: 'Threshold',
};

const SUPPORTED = new Set(['Input', 'Convolution', 'InnerProduct', 'Pooling', 'LRN', 'ReLU', 'TanH', 'Sigmoid', 'Dropout', 'Softmax', 'Concat', 'Eltwise', 'Flatten', 'Split', 'BatchNorm', 'Scale']);
const DATA_LAYERS = new Set(['Data', 'ImageData', 'HDF5Data', 'MemoryData', 'DummyData', 'WindowData']);
const TEST = 1;

interface Layer {
  name: string;
  type: string;
  bottom: string[];
  top: string[];
  blobs: Msg[];
  msg: Msg;
}

export interface CaffeModelInfo {
  graph: IrGraph;
  /** Layers of the weights file that the structure does not use (e.g. loss layers of a train net). */
  unusedWeights: string[];
}

/** Decodes the weights and, when given, the deploy prototxt (which then defines the structure). */
export function readCaffe(weights: Uint8Array, weightsName: string, prototxt?: { text: string; name: string }): CaffeModelInfo {
  const weightsNet = decodeNet(weights, weightsName);
  const weightLayers = netLayers(weightsNet, weightsName);
  const withBlobs = weightLayers.filter((l) => l.blobs.length > 0);
  if (withBlobs.length === 0) throw new ImportFileError(`${weightsName} holds no weights (no layer has blobs); is it a caffemodel?`);

  const structureNet = prototxt ? parsePrototxt(prototxt.text, caffeNetType(), prototxt.name) : weightsNet;
  const structureName = prototxt?.name ?? weightsName;
  const layers = netLayers(structureNet, structureName).filter(inTestPhase);
  if (layers.length === 0) throw new ImportFileError(`${structureName} defines no layers`);

  const byName = new Map(withBlobs.map((l) => [l.name, l.blobs]));
  if (prototxt) {
    for (const l of layers) {
      if (!needsBlobs(l)) continue;
      if (!byName.has(l.name)) {
        throw new ImportFileError(
          `${weightsName} has no weights for layer '${l.name}' (${l.type}) of ${prototxt.name}; its layers with weights are ${withBlobs.map((w) => w.name).join(', ')}. Is the prototxt for another model?`,
        );
      }
      l.blobs = byName.get(l.name)!;
    }
  }
  const used = new Set(layers.map((l) => l.name));
  const graph = new CaffeTranslator(structureNet, layers, structureName).run();
  return { graph, unusedWeights: withBlobs.map((l) => l.name).filter((n) => !used.has(n)) };
}

function decodeNet(bytes: Uint8Array, name: string): Msg {
  if (bytes.byteLength === 0) throw new ImportFileError(`${name} is empty`);
  let net: Msg;
  try {
    net = caffeNetType().decode(bytes);
  } catch (err) {
    throw new ImportFileError(`${name} is not a readable Caffe model (${(err as Error).message}; truncated or another format?)`);
  }
  if (net.layer.length === 0 && net.layers.length === 0) throw new ImportFileError(`${name} is not a Caffe model: it has no layers`);
  return net;
}

function netLayers(net: Msg, fileName: string): Layer[] {
  if (net.layer.length > 0 && net.layers.length > 0) throw new ImportFileError(`${fileName} mixes the current (layer) and the V1 (layers) formats`);
  if (net.layer.length > 0) {
    return net.layer.map((l: Msg) => ({ name: l.name, type: l.type, bottom: [...l.bottom], top: [...l.top], blobs: [...l.blobs], msg: l }));
  }
  return net.layers.map((l: Msg) => {
    if (l.layer?.byteLength) throw new UnsupportedModelError(`${fileName} is in Caffe's V0 format; upgrade it with Caffe's upgrade_net_proto_binary tool`);
    return { name: l.name, type: V1_TYPES[l.type] ?? `V1 type ${l.type}`, bottom: [...l.bottom], top: [...l.top], blobs: [...l.blobs], msg: l };
  });
}

/** Caffe's NetStateRule filtering for the TEST phase (levels and stages are not used by deploy nets). */
function inTestPhase(l: Layer): boolean {
  const include: Msg[] = l.msg.include ?? [];
  const exclude: Msg[] = l.msg.exclude ?? [];
  if (include.length > 0 && !include.some((r) => r.phase == null || r.phase === TEST)) return false;
  return !exclude.some((r) => r.phase === TEST);
}

function needsBlobs(l: Layer): boolean {
  return l.type === 'Convolution' || l.type === 'InnerProduct' || l.type === 'BatchNorm' || l.type === 'Scale';
}

class CaffeTranslator {
  private readonly nodes: IrNode[] = [];
  private readonly constants = new Map<string, ConstTensor>();
  /** Caffe blob name -> current IR value name (in-place layers make new versions). */
  private readonly current = new Map<string, string>();
  private readonly versions = new Map<string, number>();
  private readonly consumed = new Set<string>();
  private input: IrGraph['input'] | null = null;

  constructor(
    private readonly net: Msg,
    private readonly layers: Layer[],
    private readonly fileName: string,
  ) {}

  run(): IrGraph {
    const unsupported = [...new Set(this.layers.map((l) => l.type).filter((t) => !SUPPORTED.has(t)))];
    const data = unsupported.filter((t) => DATA_LAYERS.has(t));
    if (data.length > 0 && !this.net.input.length) {
      throw new UnsupportedModelError(`${this.fileName} is a training net (it reads ${data.join(', ')} layers) and gives no input shape; import it with its deploy prototxt: --prototxt deploy.prototxt`);
    }
    const rest = unsupported.filter((t) => !DATA_LAYERS.has(t));
    if (rest.length > 0) {
      throw new UnsupportedModelError(`${this.fileName} uses layer types ConvScope cannot import: ${rest.join(', ')}. Supported: ${[...SUPPORTED].join(', ')}`);
    }
    this.netInput();
    for (const l of this.layers) this.layer(l);
    if (!this.input) throw new ImportFileError(`${this.fileName} declares no input and no Input layer, so the input size is unknown; give the deploy prototxt with --prototxt`);
    const outputs = [...this.current.entries()].filter(([, v]) => !this.consumed.has(v) && v !== this.input!.name);
    if (outputs.length !== 1) {
      throw new UnsupportedModelError(`${this.fileName}: ConvScope imports nets with one output; this one ends in ${outputs.map(([b]) => b).join(', ') || 'nothing'}`);
    }
    return { name: this.net.name || 'caffe', input: this.input, output: outputs[0][1], nodes: this.nodes, constants: this.constants, opset: 13 };
  }

  private netInput(): void {
    if (this.net.input.length === 0) return;
    if (this.net.input.length !== 1) throw new UnsupportedModelError(`${this.fileName} has ${this.net.input.length} inputs; ConvScope imports nets with one image input`);
    const dims: number[] = this.net.input_shape.length ? this.net.input_shape[0].dim.map(num) : this.net.input_dim.map(num);
    this.setInput(this.net.input[0], dims, 'input');
  }

  private setInput(blob: string, dims: number[], where: string): void {
    if (this.input) throw new UnsupportedModelError(`${this.fileName} has more than one input; ConvScope imports nets with one image input`);
    if (dims.length !== 4 || dims.slice(1).some((d) => !(d > 0))) {
      throw new ImportFileError(`${this.fileName}: the ${where} shape must be batch x channels x height x width, got ${dims.join('x') || 'none'}`);
    }
    this.current.set(blob, blob);
    this.input = { name: blob, shape: [dims[1], dims[2], dims[3]] };
  }

  private layer(l: Layer): void {
    const m = l.msg;
    const fail = (why: string): never => {
      throw new UnsupportedModelError(`layer ${l.name} (${l.type}): ${why}`);
    };
    switch (l.type) {
      case 'Input': {
        const shape = m.input_param?.shape?.[0];
        this.setInput(l.top[0], shape ? shape.dim.map(num) : [], `Input layer ${l.name}'s`);
        return;
      }
      case 'Split':
        for (const t of l.top) this.current.set(t, this.bottom(l, 0));
        return;
      case 'Convolution': {
        const p = m.convolution_param ?? fail('it has no convolution_param');
        if ((p.axis ?? 1) !== 1) fail('only axis 1 is supported');
        const kernel = pair(p.kernel_h, p.kernel_w, p.kernel_size, null) ?? fail('it has no kernel size');
        const stride = pair(p.stride_h, p.stride_w, p.stride, 1)!;
        const pad = pair(p.pad_h, p.pad_w, p.pad, 0)!;
        const dilation = p.dilation.length ? p.dilation.map(num) : [1];
        if (dilation.some((d: number) => d !== 1)) fail('dilated convolution is not supported');
        const m0 = num(p.num_output);
        const group = num(p.group ?? 1);
        const blobs = this.blobs(l, p.bias_term !== false ? 2 : 1);
        const w = this.weights(l, blobs[0], 'weights', (count, dims) => {
          if (dims.length === 4 && (dims[0] !== m0 || dims[2] !== kernel[0] || dims[3] !== kernel[1])) {
            return `the weights are ${dims.join('x')} but the layer has ${m0} outputs and a ${kernel.join('x')} kernel`;
          }
          return count % (m0 * kernel[0] * kernel[1]) === 0 ? null : `${count} weights do not fit ${m0} outputs with a ${kernel.join('x')} kernel`;
        });
        w.dims = [m0, elementCount(w.dims) / (m0 * kernel[0] * kernel[1]), kernel[0], kernel[1]];
        const inputs = [this.bottom(l, 0), this.constant(`${l.name}/weights`, w)];
        if (blobs[1]) inputs.push(this.constant(`${l.name}/bias`, this.vector(l, blobs[1], 'bias', m0)));
        this.emit(l, 'Conv', inputs, { kernel_shape: kernel, strides: stride, pads: [pad[0], pad[1], pad[0], pad[1]], group });
        return;
      }
      case 'InnerProduct': {
        const p = m.inner_product_param ?? fail('it has no inner_product_param');
        if ((p.axis ?? 1) !== 1) fail('only axis 1 is supported');
        const n = num(p.num_output);
        const blobs = this.blobs(l, p.bias_term !== false ? 2 : 1);
        const w = this.weights(l, blobs[0], 'weights', (count) => (count % n === 0 ? null : `${count} weights do not fit ${n} outputs`));
        const k = elementCount(w.dims) / n;
        w.dims = p.transpose ? [k, n] : [n, k];
        const flat = this.emitRaw(`${l.name}/flatten`, 'Flatten', [this.bottom(l, 0)], { axis: 1 });
        const inputs = [flat, this.constant(`${l.name}/weights`, w)];
        if (blobs[1]) inputs.push(this.constant(`${l.name}/bias`, this.vector(l, blobs[1], 'bias', n)));
        this.emit(l, 'Gemm', inputs, { transB: p.transpose ? 0 : 1 });
        return;
      }
      case 'Pooling': {
        const p = m.pooling_param ?? fail('it has no pooling_param');
        const method = p.pool ?? 0;
        if (method === 2) fail('stochastic pooling is not supported');
        if (p.global_pooling) {
          this.emit(l, method === 0 ? 'GlobalMaxPool' : 'GlobalAveragePool', [this.bottom(l, 0)], {});
          return;
        }
        const kernel = pair(p.kernel_h, p.kernel_w, p.kernel_size, null) ?? fail('it has no kernel size');
        const stride = pair(p.stride_h, p.stride_w, p.stride, 1)!;
        const pad = pair(p.pad_h, p.pad_w, p.pad, 0)!;
        const attrs: Record<string, AttrValue> = { kernel_shape: kernel, strides: stride, pads: [pad[0], pad[1], pad[0], pad[1]], ceil_mode: (p.round_mode ?? 0) === 0 ? 1 : 0 };
        // Caffe averages over the window clipped to the padded input: padding counts, the area beyond it does not.
        if (method === 1) attrs.count_include_pad = pad[0] > 0 || pad[1] > 0 ? 1 : 0;
        this.emit(l, method === 0 ? 'MaxPool' : 'AveragePool', [this.bottom(l, 0)], attrs);
        return;
      }
      case 'LRN': {
        const p = m.lrn_param ?? {};
        if ((p.norm_region ?? 0) !== 0) fail('only ACROSS_CHANNELS normalisation is supported');
        this.emit(l, 'LRN', [this.bottom(l, 0)], { size: p.local_size ?? 5, alpha: float32Value(p.alpha ?? 1), beta: float32Value(p.beta ?? 0.75), bias: float32Value(p.k ?? 1) });
        return;
      }
      case 'ReLU':
        if ((m.relu_param?.negative_slope ?? 0) !== 0) fail('leaky ReLU (negative_slope) is not supported');
        this.emit(l, 'Relu', [this.bottom(l, 0)], {});
        return;
      case 'TanH':
        this.emit(l, 'Tanh', [this.bottom(l, 0)], {});
        return;
      case 'Sigmoid':
        this.emit(l, 'Sigmoid', [this.bottom(l, 0)], {});
        return;
      case 'Dropout':
        this.emit(l, 'Dropout', [this.bottom(l, 0)], { ratio: float32Value(m.dropout_param?.dropout_ratio ?? 0.5) });
        return;
      case 'Softmax':
        if ((m.softmax_param?.axis ?? 1) !== 1) fail('only softmax over axis 1 is supported');
        this.emit(l, 'Softmax', [this.bottom(l, 0)], { axis: 1 });
        return;
      case 'Flatten':
        if ((m.flatten_param?.axis ?? 1) !== 1 || (m.flatten_param?.end_axis ?? -1) !== -1) fail('only flattening axes 1 to the end is supported');
        this.emit(l, 'Flatten', [this.bottom(l, 0)], { axis: 1 });
        return;
      case 'Concat': {
        const axis = m.concat_param ? (m.concat_param.axis ?? m.concat_param.concat_dim ?? 1) : 1;
        this.emit(l, 'Concat', l.bottom.map((_, i) => this.bottom(l, i)), { axis });
        return;
      }
      case 'Eltwise': {
        const p = m.eltwise_param ?? {};
        if ((p.operation ?? 1) !== 1 || (p.coeff ?? []).some((c: number) => c !== 1)) fail('only a plain SUM is supported');
        if (l.bottom.length !== 2) fail('only summing two blobs is supported');
        this.emit(l, 'Add', [this.bottom(l, 0), this.bottom(l, 1)], {});
        return;
      }
      case 'BatchNorm': {
        const blobs = this.blobs(l, 3);
        const factor = floatValues(l, blobs[2], 'scale factor')[0];
        const s = factor === 0 ? 0 : 1 / factor;
        const mean = this.vector(l, blobs[0], 'mean', null);
        const c = elementCount(mean.dims);
        const variance = this.vector(l, blobs[1], 'variance', c);
        const scaled = (t: FloatTensor): FloatTensor => ({ kind: 'float', dims: [c], data: Float32Array.from(floatValues(l, t, ''), (v) => v * s) });
        const inputs = [this.bottom(l, 0), `${l.name}/gamma`, `${l.name}/beta`, this.constant(`${l.name}/mean`, scaled(mean)), this.constant(`${l.name}/variance`, scaled(variance))];
        this.constants.set(`${l.name}/gamma`, { kind: 'float', dims: [c], data: new Float32Array(c).fill(1) });
        this.constants.set(`${l.name}/beta`, { kind: 'float', dims: [c], data: new Float32Array(c) });
        this.emit(l, 'BatchNormalization', inputs, { epsilon: float32Value(m.batch_norm_param?.eps ?? 1e-5) });
        return;
      }
      case 'Scale': {
        // Caffe splits batch norm into BatchNorm (statistics) + Scale (gamma, beta): fold Scale into it.
        const prev = this.nodes[this.nodes.length - 1];
        const source = this.bottom(l, 0);
        if (!prev || prev.op !== 'BatchNormalization' || prev.outputs[0] !== source || l.bottom.length !== 1) fail('a Scale layer is supported only right after a BatchNorm layer');
        const p = m.scale_param ?? {};
        const c = elementCount(this.constants.get(prev.inputs[3])!.dims);
        const blobs = this.blobs(l, p.bias_term ? 2 : 1);
        this.constants.set(prev.inputs[1], this.vector(l, blobs[0], 'scale', c));
        if (blobs[1]) this.constants.set(prev.inputs[2], this.vector(l, blobs[1], 'bias', c));
        this.current.set(l.top[0], source);
        return;
      }
      default:
        fail('this layer type is not supported');
    }
  }

  private bottom(l: Layer, i: number): string {
    const blob = l.bottom[i];
    const value = blob === undefined ? undefined : this.current.get(blob);
    if (value === undefined) throw new ImportFileError(`${this.fileName}: layer ${l.name} reads blob '${blob ?? `#${i}`}', which no earlier layer produces`);
    this.consumed.add(value);
    return value;
  }

  private emit(l: Layer, op: string, inputs: string[], attrs: Record<string, AttrValue>): void {
    if (l.top.length !== 1) throw new UnsupportedModelError(`layer ${l.name} (${l.type}) has ${l.top.length} tops; ConvScope supports one`);
    const top = l.top[0];
    const version = (this.versions.get(top) ?? 0) + 1;
    this.versions.set(top, version);
    const value = version === 1 ? top : `${top}#${version}`;
    this.nodes.push({ op, name: l.name, inputs, outputs: [value], attrs });
    this.current.set(top, value);
  }

  private emitRaw(name: string, op: string, inputs: string[], attrs: Record<string, AttrValue>): string {
    this.nodes.push({ op, name, inputs, outputs: [name], attrs });
    return name;
  }

  private constant(name: string, t: ConstTensor): string {
    this.constants.set(name, t);
    return name;
  }

  private blobs(l: Layer, expected: number): Msg[] {
    if (l.blobs.length !== expected) {
      throw new ImportFileError(`layer ${l.name} (${l.type}) should have ${expected} weight blob${expected > 1 ? 's' : ''} but the weights file has ${l.blobs.length}`);
    }
    return l.blobs;
  }

  /** A blob's values with its own dims; `check` returns a complaint or null. */
  private weights(l: Layer, blob: Msg, what: string, check: (count: number, dims: number[]) => string | null): FloatTensor {
    const t = blobTensor(l, blob, what);
    const problem = check(elementCount(t.dims), t.dims);
    if (problem) throw new ImportFileError(`layer ${l.name} (${l.type}): ${problem}; the prototxt and the weights do not match`);
    return t;
  }

  private vector(l: Layer, blob: Msg, what: string, expected: number | null): FloatTensor {
    const t = blobTensor(l, blob, what);
    const n = elementCount(t.dims);
    if (expected !== null && n !== expected) {
      throw new ImportFileError(`layer ${l.name} (${l.type}): its ${what} has ${n} values but the layer has ${expected} outputs; the prototxt and the weights do not match`);
    }
    return { ...t, dims: [n] };
  }
}

/** A BlobProto as a float tensor; dims from `shape` or the legacy num/channels/height/width. */
function blobTensor(l: Layer, blob: Msg, what: string): FloatTensor {
  const legacy = [blob.num, blob.channels, blob.height, blob.width].map(num);
  const dims: number[] = blob.shape?.dim?.length ? blob.shape.dim.map(num) : legacy.some((d) => d > 0) ? legacy : [];
  let data: Float32Array | Uint8Array;
  if (blob.data?.byteLength) data = blob.data;
  else if (blob.double_data?.byteLength) {
    const b: Uint8Array = blob.double_data;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    data = Float32Array.from({ length: b.byteLength / 8 }, (_, i) => view.getFloat64(8 * i, true));
  } else {
    throw new ImportFileError(`layer ${l.name} (${l.type}): its ${what} blob has no packed float data (empty, truncated or written unpacked)`);
  }
  const held = data instanceof Float32Array ? data.length : data.byteLength / 4;
  const count = dims.length ? elementCount(dims) : held;
  if (held !== count) throw new ImportFileError(`layer ${l.name} (${l.type}): its ${what} blob is ${dims.join('x')} (${count} values) but holds ${held} values; the file is corrupt or truncated`);
  return { kind: 'float', dims: dims.length ? dims : [held], data };
}

function floatValues(l: Layer, t: Msg | FloatTensor, what: string): Float32Array {
  const tensor: FloatTensor = t.kind === 'float' ? t : blobTensor(l, t, what);
  const d = tensor.data;
  if (d instanceof Float32Array) return d;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return Float32Array.from({ length: d.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/** Caffe's (h, w) from the _h/_w fields (unset reads as 0), else a field with one or two values, else the default. */
function pair(h: unknown, w: unknown, repeated: unknown, fallback: number | null): [number, number] | null {
  if (num(h) > 0 || num(w) > 0) return [num(h), num(w)];
  const list = Array.isArray(repeated) ? repeated.map(num) : repeated != null ? [num(repeated)] : [];
  if (list.length === 1) return [list[0], list[0]];
  if (list.length === 2) return [list[0], list[1]];
  return fallback === null ? null : [fallback, fallback];
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: () => number }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}
