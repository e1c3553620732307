// Model definitions as data, and the walk that checks a spec and counts its parameters without building it.
import { SpecShapeError } from './errors';

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax';
/** 'same' and 'valid' as in Keras; a number pads every side with that many zeros. */
export type Padding = 'valid' | 'same' | number;

export type InitSpec =
  | { kind: 'glorotUniform' }
  | { kind: 'heNormal' }
  | { kind: 'randomNormal'; mean: number; stddev: number }
  | { kind: 'zeros' }
  | { kind: 'constant'; value: number };

export interface ConvLayerSpec {
  kind: 'conv';
  name: string;
  filters: number;
  kernel: number;
  stride: number;
  padding: Padding;
  /** 1 = all-to-all; >1 splits input and output channels into that many independent groups. */
  groups: number;
  activation: Activation;
  kernelInit: InitSpec;
  biasInit: InitSpec;
}

export interface PoolLayerSpec {
  kind: 'maxPool' | 'avgPool';
  name: string;
  size: number;
  stride: number;
  padding: 'valid' | 'same';
}

/** b = a / (bias + alpha * sum_{|j-i| <= depthRadius} a_j^2)^beta (alpha not divided by the window size). */
export interface LrnLayerSpec {
  kind: 'lrn';
  name: string;
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

export interface BatchNormLayerSpec {
  kind: 'batchNorm';
  name: string;
  momentum: number;
  epsilon: number;
}

export interface ActivationLayerSpec {
  kind: 'activation';
  name: string;
  activation: Activation;
}

export interface FlattenLayerSpec {
  kind: 'flatten';
  name: string;
}

export interface DenseLayerSpec {
  kind: 'dense';
  name: string;
  units: number;
  activation: Activation;
  kernelInit: InitSpec;
  biasInit: InitSpec;
}

export interface DropoutLayerSpec {
  kind: 'dropout';
  name: string;
  rate: number;
}

export type LayerSpec =
  | ConvLayerSpec
  | PoolLayerSpec
  | LrnLayerSpec
  | BatchNormLayerSpec
  | ActivationLayerSpec
  | FlattenLayerSpec
  | DenseLayerSpec
  | DropoutLayerSpec;

export type LayerSpecKind = LayerSpec['kind'];
export type OptionValue = string | number | boolean;

export interface ModelSpec {
  id: string;
  title: string;
  /** [height, width, channels] of one example. */
  input: [number, number, number];
  classes: number;
  layers: LayerSpec[];
  /** The options the spec was made with, defaults included (an option whose default is the model's own unnamed choice is absent unless set). */
  options: Record<string, OptionValue>;
}

/** Shape of one example (no batch axis). */
export type ExampleShape = number[];

export interface LayerShapeInfo {
  name: string;
  kind: LayerSpecKind;
  inputShape: ExampleShape;
  outputShape: ExampleShape;
  params: number;
  trainableParams: number;
}

export interface ParamCount {
  total: number;
  trainable: number;
  nonTrainable: number;
}

export const RESERVED_LAYER_NAMES: readonly string[] = ['input'];

/**
 * Walks the spec, computing each layer's output shape and parameter count.
 * Throws SpecShapeError naming the first layer that cannot take the shape reaching it.
 */
export function inferShapes(spec: ModelSpec): LayerShapeInfo[] {
  checkInput(spec);
  checkNames(spec);
  const infos: LayerShapeInfo[] = [];
  let shape: ExampleShape = [...spec.input];
  for (const layer of spec.layers) {
    const { outputShape, params, trainableParams } = step(layer, shape, spec);
    infos.push({ name: layer.name, kind: layer.kind, inputShape: shape, outputShape, params, trainableParams });
    shape = outputShape;
  }
  if (shape.length !== 1 || shape[0] !== spec.classes) {
    throw new SpecShapeError(
      `${spec.id}: the last layer outputs ${formatShape(shape)}, but the model has ${spec.classes} classes`,
      spec.layers.at(-1)?.name ?? 'input',
    );
  }
  return infos;
}

/** Parameter counts from the spec alone (no tensors allocated); equals the built model's counts. */
export function countParams(spec: ModelSpec): ParamCount {
  let total = 0;
  let trainable = 0;
  for (const info of inferShapes(spec)) {
    total += info.params;
    trainable += info.trainableParams;
  }
  return { total, trainable, nonTrainable: total - trainable };
}

/** Output size along one spatial axis, or null when the window does not fit. */
export function convOutputSize(size: number, kernel: number, stride: number, padding: Padding): number | null {
  if (padding === 'same') return Math.ceil(size / stride);
  const padded = size + 2 * (padding === 'valid' ? 0 : padding);
  if (padded < kernel) return null;
  return Math.floor((padded - kernel) / stride) + 1;
}

/** Numeric padding that 'same' or 'valid' reproduces exactly, as that string; otherwise the number. */
export function canonicalPadding(kernel: number, stride: number, padding: Padding): Padding {
  if (padding === 0) return 'valid';
  if (typeof padding === 'number' && stride === 1 && 2 * padding === kernel - 1) return 'same';
  return padding;
}

interface Step {
  outputShape: ExampleShape;
  params: number;
  trainableParams: number;
}

function step(layer: LayerSpec, shape: ExampleShape, spec: ModelSpec): Step {
  const fail = (why: string): never => {
    throw new SpecShapeError(
      `${spec.id}: layer ${layer.name} (${describeLayer(layer)}) cannot take input ${formatShape(shape)}: ${why}` +
        ` (model input ${formatShape(spec.input)})`,
      layer.name,
    );
  };
  const needSpatial = () => {
    if (shape.length !== 3) fail('it needs a height x width x channels input');
  };
  switch (layer.kind) {
    case 'conv': {
      needSpatial();
      positiveInts(layer, { filters: layer.filters, kernel: layer.kernel, stride: layer.stride, groups: layer.groups }, fail);
      if (typeof layer.padding === 'number' && !(Number.isInteger(layer.padding) && layer.padding >= 0)) {
        fail(`padding must be 'valid', 'same' or a whole number >= 0, got ${layer.padding}`);
      }
      const [h, w, c] = shape;
      if (c % layer.groups !== 0) fail(`its ${c} input channels cannot be split into ${layer.groups} groups`);
      if (layer.filters % layer.groups !== 0) fail(`its ${layer.filters} filters cannot be split into ${layer.groups} groups`);
      const oh = convOutputSize(h, layer.kernel, layer.stride, layer.padding);
      const ow = convOutputSize(w, layer.kernel, layer.stride, layer.padding);
      if (oh === null || ow === null) fail(`the ${layer.kernel}x${layer.kernel} kernel is larger than the (padded) input`);
      const params = layer.kernel * layer.kernel * (c / layer.groups) * layer.filters + layer.filters;
      return { outputShape: [oh!, ow!, layer.filters], params, trainableParams: params };
    }
    case 'maxPool':
    case 'avgPool': {
      needSpatial();
      positiveInts(layer, { size: layer.size, stride: layer.stride }, fail);
      const [h, w, c] = shape;
      const oh = convOutputSize(h, layer.size, layer.stride, layer.padding);
      const ow = convOutputSize(w, layer.size, layer.stride, layer.padding);
      if (oh === null || ow === null) fail(`the ${layer.size}x${layer.size} window is larger than the input`);
      return { outputShape: [oh!, ow!, c], params: 0, trainableParams: 0 };
    }
    case 'lrn':
      needSpatial();
      if (!(Number.isInteger(layer.depthRadius) && layer.depthRadius >= 0)) fail('depthRadius must be a whole number >= 0');
      return { outputShape: shape, params: 0, trainableParams: 0 };
    case 'batchNorm': {
      const channels = shape[shape.length - 1];
      return { outputShape: shape, params: 4 * channels, trainableParams: 2 * channels };
    }
    case 'activation':
      return { outputShape: shape, params: 0, trainableParams: 0 };
    case 'dropout':
      if (!(layer.rate >= 0 && layer.rate < 1)) fail(`dropout rate must be in [0, 1), got ${layer.rate}`);
      return { outputShape: shape, params: 0, trainableParams: 0 };
    case 'flatten':
      needSpatial();
      return { outputShape: [shape[0] * shape[1] * shape[2]], params: 0, trainableParams: 0 };
    case 'dense': {
      if (shape.length !== 1) fail('it needs a flat input (put a flatten layer before it)');
      positiveInts(layer, { units: layer.units }, fail);
      const params = shape[0] * layer.units + layer.units;
      return { outputShape: [layer.units], params, trainableParams: params };
    }
  }
}

function positiveInts(layer: LayerSpec, values: Record<string, number>, fail: (why: string) => never): void {
  for (const [key, v] of Object.entries(values)) {
    if (!(Number.isInteger(v) && v >= 1)) fail(`${key} must be a whole number >= 1, got ${v} in ${layer.name}`);
  }
}

function checkInput(spec: ModelSpec): void {
  const ok = spec.input.length === 3 && spec.input.every((d) => Number.isInteger(d) && d >= 1);
  if (!ok) throw new SpecShapeError(`${spec.id}: input must be height x width x channels in whole numbers >= 1, got ${formatShape(spec.input)}`, 'input');
  if (!(Number.isInteger(spec.classes) && spec.classes >= 1)) {
    throw new SpecShapeError(`${spec.id}: classes must be a whole number >= 1, got ${spec.classes}`, 'input');
  }
}

function checkNames(spec: ModelSpec): void {
  const seen = new Set<string>(RESERVED_LAYER_NAMES);
  for (const layer of spec.layers) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(layer.name)) {
      throw new SpecShapeError(`${spec.id}: layer name '${layer.name}' must be a letter followed by letters, digits or _`, layer.name);
    }
    if (seen.has(layer.name)) throw new SpecShapeError(`${spec.id}: layer name '${layer.name}' is used twice (or reserved)`, layer.name);
    seen.add(layer.name);
  }
}

/** A short human description of a layer, e.g. "conv 96 11x11/4 valid groups 2 relu". */
export function describeLayer(layer: LayerSpec): string {
  switch (layer.kind) {
    case 'conv': {
      const groups = layer.groups > 1 ? ` groups ${layer.groups}` : '';
      const pad = typeof layer.padding === 'number' ? `pad ${layer.padding}` : layer.padding;
      return `conv ${layer.filters} ${layer.kernel}x${layer.kernel}/${layer.stride} ${pad}${groups} ${layer.activation}`;
    }
    case 'maxPool':
    case 'avgPool':
      return `${layer.kind} ${layer.size}x${layer.size}/${layer.stride} ${layer.padding}`;
    case 'lrn':
      return `lrn depthRadius ${layer.depthRadius} bias ${layer.bias} alpha ${layer.alpha} beta ${layer.beta}`;
    case 'batchNorm':
      return 'batchNorm';
    case 'activation':
      return `activation ${layer.activation}`;
    case 'flatten':
      return 'flatten';
    case 'dense':
      return `dense ${layer.units} ${layer.activation}`;
    case 'dropout':
      return `dropout ${layer.rate}`;
  }
}

/** Formats a shape as 55x55x96. */
export function formatShape(shape: readonly number[]): string {
  return shape.join('x');
}
