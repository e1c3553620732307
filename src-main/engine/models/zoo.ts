// The model zoo: lenet5, alexnet and alexnet-blog as in SEED_FACTS.md, and alexnet-torchvision (the
// 64-192-384-256-256 AlexNet that torchvision ships, so that its pretrained weights import into the zoo),
// each with its options.
//
// Choices worth knowing:
// - width multiplies conv filters AND hidden dense units (fc sizes dominate AlexNet's 61M params, so
//   scaling only convs would not bring it down to a CPU). The output layer keeps `classes` units.
//   Counts are rounded; in grouped AlexNet every conv width is rounded to a multiple of the 2 groups.
// - init defaults to glorot (Keras' default, what the blog's code used). init=paper is AlexNet's
//   N(0, 0.01) weights with biases 1 in conv2, conv4, conv5 and the hidden FC layers fc6, fc7 (the paper's
//   "fully-connected hidden layers"; fc8 keeps 0). With it an 8-layer net from scratch barely moves for
//   many epochs (activations shrink ~100x per layer): the paper needed 90 epochs and hand-tuned learning rates.
// - batchNorm puts BatchNormalization after a conv's activation (the blog's order), never on dense layers.
// - lrn (AlexNet's LRN, paper values) follows conv1 and conv2, before batchNorm and pooling.
import { UnknownModelError, OverrideError } from './errors';
import { PAPER_LRN } from './layers/lrn';
import { coerceOption, describeType, parseShape, type OptionDef, type Overrides } from './overrides';
import { inferShapes, type Activation, type ConvLayerSpec, type DenseLayerSpec, type InitSpec, type LayerSpec, type ModelSpec, type OptionValue, type Padding } from './spec';

const ACTIVATIONS = ['relu', 'tanh', 'sigmoid'] as const;

interface ZooModel {
  id: string;
  title: string;
  description: string;
  options: OptionDef[];
  make(o: Resolved): Omit<ModelSpec, 'id' | 'title' | 'options'>;
}

/** Options after defaults and overrides (null only where the model's own choice applies). */
type Resolved = Record<string, OptionValue | null>;

export interface OptionInfo {
  key: string;
  description: string;
  /** e.g. 'true or false', 'a number in [0, 1)' */
  accepts: string;
  default: OptionValue | null;
}

export interface ModelInfo {
  id: string;
  title: string;
  description: string;
  input: [number, number, number];
  classes: number;
  options: OptionInfo[];
}

// ---- shared option definitions ----

const opt = {
  input: (d: string): OptionDef => ({ key: 'input', type: 'shape', default: d, description: 'input height x width x channels' }),
  classes: (d: number): OptionDef => ({ key: 'classes', type: 'integer', min: 2, max: 100_000, default: d, description: 'units of the softmax output layer' }),
  activation: (d: Activation, what: string): OptionDef => ({ key: 'activation', type: 'enum', values: ACTIVATIONS, default: d, description: `activation of ${what}` }),
  fcActivation: (d: Activation | null): OptionDef => ({
    key: 'fcActivation',
    type: 'enum',
    values: ACTIVATIONS,
    default: d,
    description: d === null ? 'activation of the hidden dense layers (default: same as activation)' : 'activation of the hidden dense layers',
  }),
  dropout: (d: number, where: string): OptionDef => ({ key: 'dropout', type: 'number', min: 0, max: 1, maxExclusive: true, default: d, description: `dropout rate ${where} (0: no Dropout layers)` }),
  width: (): OptionDef => ({
    key: 'width',
    type: 'number',
    min: 0,
    max: 16,
    minExclusive: true,
    default: 1,
    description: 'multiplier on conv filters and hidden dense units (not the output layer), e.g. 0.25 to fit a CPU',
  }),
  batchNorm: (d: boolean): OptionDef => ({ key: 'batchNorm', type: 'boolean', default: d, description: 'BatchNormalization after each conv activation' }),
  overlap: (d: boolean | null, asWritten?: string): OptionDef => ({
    key: 'overlap',
    type: 'boolean',
    default: d,
    description: `true: overlapping 3x3 stride 2 max-pooling; false: 2x2 stride 2${asWritten ? ` (default: as written, ${asWritten})` : ''}`,
  }),
  lrn: (d: boolean): OptionDef => ({ key: 'lrn', type: 'boolean', default: d, description: 'local response normalisation (paper: k=2, n=5, alpha=1e-4, beta=0.75) after conv1 and conv2' }),
  grouped: (): OptionDef => ({ key: 'grouped', type: 'boolean', default: true, description: "conv2, conv4, conv5 in 2 groups (the paper's two GPUs); false: all-to-all" }),
  init: (values: readonly string[]): OptionDef => ({
    key: 'init',
    type: 'enum',
    values,
    default: 'glorot',
    description:
      'weight init: glorot (uniform, zero biases; Keras default), he (normal, zero biases)' +
      (values.includes('paper') ? ', paper (N(0, 0.01), biases 1 in conv2/4/5, fc6, fc7: slow to start from scratch)' : ''),
  }),
};

// ---- layer helpers ----

function kernelInit(o: Resolved): InitSpec {
  switch (o.init) {
    case 'paper':
      return { kind: 'randomNormal', mean: 0, stddev: 0.01 };
    case 'he':
      return { kind: 'heNormal' };
    default:
      return { kind: 'glorotUniform' };
  }
}

/** Paper init sets some biases to 1 (where it asks for it); every other scheme uses zeros. */
function biasInit(o: Resolved, paperOne: boolean): InitSpec {
  return o.init === 'paper' && paperOne ? { kind: 'constant', value: 1 } : { kind: 'zeros' };
}

function scaled(n: number, width: number, multiple = 1): number {
  return Math.max(multiple, Math.round((n * width) / multiple) * multiple);
}

function conv(
  o: Resolved,
  name: string,
  c: { filters: number; kernel: number; stride: number; padding: Padding; groups?: number; multiple?: number; paperBiasOne?: boolean },
): ConvLayerSpec {
  return {
    kind: 'conv',
    name,
    filters: scaled(c.filters, o.width as number, c.multiple ?? 1),
    kernel: c.kernel,
    stride: c.stride,
    padding: c.padding,
    groups: c.groups ?? 1,
    activation: o.activation as Activation,
    kernelInit: kernelInit(o),
    biasInit: biasInit(o, c.paperBiasOne ?? false),
  };
}

function hiddenDense(o: Resolved, name: string, units: number, paperBiasOne = false): DenseLayerSpec {
  return {
    kind: 'dense',
    name,
    units: scaled(units, o.width as number),
    activation: (o.fcActivation ?? o.activation) as Activation,
    kernelInit: kernelInit(o),
    biasInit: biasInit(o, paperBiasOne),
  };
}

function outputDense(o: Resolved, name: string): DenseLayerSpec {
  return { kind: 'dense', name, units: o.classes as number, activation: 'softmax', kernelInit: kernelInit(o), biasInit: biasInit(o, false) };
}

function pool(name: string, overlap: boolean): LayerSpec {
  return overlap ? { kind: 'maxPool', name, size: 3, stride: 2, padding: 'valid' } : { kind: 'maxPool', name, size: 2, stride: 2, padding: 'valid' };
}

function batchNorm(name: string): LayerSpec {
  return { kind: 'batchNorm', name, momentum: 0.99, epsilon: 1e-3 };
}

function dropout(o: Resolved, name: string): LayerSpec[] {
  return (o.dropout as number) > 0 ? [{ kind: 'dropout', name, rate: o.dropout as number }] : [];
}

/** A conv followed by the optional LRN and BN its options ask for, then an optional pooling layer. */
function convBlock(o: Resolved, n: number, c: ConvLayerSpec, extras: { lrn?: boolean; pool?: boolean | null }): LayerSpec[] {
  const layers: LayerSpec[] = [c];
  if (extras.lrn) layers.push({ kind: 'lrn', name: `lrn${n}`, ...PAPER_LRN });
  if (o.batchNorm) layers.push(batchNorm(`bn${n}`));
  if (extras.pool != null) layers.push(pool(`pool${n}`, extras.pool));
  return layers;
}

function inputOf(o: Resolved): [number, number, number] {
  return parseShape(o.input as string)!;
}

/**
 * The layout both AlexNets share; they differ in how padding is written (the paper's pad 2/1 equals
 * Keras' 'same' here), in grouping and in pooling. Options add LRN, BN and dropout.
 */
function alexnetLayers(o: Resolved, v: { padding: (paperPad: number) => Padding; groups: number; pools: readonly [boolean, boolean, boolean] }): LayerSpec[] {
  const lrn = o.lrn as boolean;
  // Every conv width a multiple of the group count, so grouped layers can split their inputs and outputs.
  const c = (n: number, filters: number, kernel: number, stride: number, pad: number, grouped: boolean, paperBiasOne: boolean) =>
    conv(o, `conv${n}`, { filters, kernel, stride, padding: v.padding(pad), groups: grouped ? v.groups : 1, multiple: v.groups, paperBiasOne });
  return [
    ...convBlock(o, 1, c(1, 96, 11, 4, 0, false, false), { lrn, pool: v.pools[0] }),
    ...convBlock(o, 2, c(2, 256, 5, 1, 2, true, true), { lrn, pool: v.pools[1] }),
    ...convBlock(o, 3, c(3, 384, 3, 1, 1, false, false), {}),
    ...convBlock(o, 4, c(4, 384, 3, 1, 1, true, true), {}),
    ...convBlock(o, 5, c(5, 256, 3, 1, 1, true, true), { pool: v.pools[2] }),
    { kind: 'flatten', name: 'flatten' },
    hiddenDense(o, 'fc6', 4096, true),
    ...dropout(o, 'drop6'),
    hiddenDense(o, 'fc7', 4096, true),
    ...dropout(o, 'drop7'),
    outputDense(o, 'fc8'),
  ];
}

/**
 * torchvision's AlexNet (torchvision.models.alexnet): the one-GPU layout of Krizhevsky's 2014 "One weird
 * trick" paper. Padded conv1, no LRN, no groups, and dropout BEFORE fc6 and fc7. Its
 * AdaptiveAvgPool2d((6, 6)) is not a layer here: at 224x224 the last pool already gives 6x6, where it is
 * the identity (the importer drops the 1x1 stride-1 pool that torch exports for it).
 */
function torchvisionLayers(o: Resolved): LayerSpec[] {
  const overlap = o.overlap as boolean;
  const lrn = o.lrn as boolean;
  const c = (n: number, filters: number, kernel: number, stride: number, padding: Padding) => conv(o, `conv${n}`, { filters, kernel, stride, padding });
  return [
    ...convBlock(o, 1, c(1, 64, 11, 4, 2), { lrn, pool: overlap }),
    ...convBlock(o, 2, c(2, 192, 5, 1, 2), { lrn, pool: overlap }),
    ...convBlock(o, 3, c(3, 384, 3, 1, 1), {}),
    ...convBlock(o, 4, c(4, 256, 3, 1, 1), {}),
    ...convBlock(o, 5, c(5, 256, 3, 1, 1), { pool: overlap }),
    { kind: 'flatten', name: 'flatten' },
    ...dropout(o, 'drop6'),
    hiddenDense(o, 'fc6', 4096),
    ...dropout(o, 'drop7'),
    hiddenDense(o, 'fc7', 4096),
    outputDense(o, 'fc8'),
  ];
}

// ---- the models ----

const lenet5: ZooModel = {
  id: 'lenet5',
  title: 'LeNet-5 (Keras notebook)',
  description: 'Two 5x5 convs (6, 16 filters) with 2x2 max-pooling, dense 120-84-10; 44,426 params at 28x28x1.',
  options: [
    opt.input('28x28x1'),
    opt.classes(10),
    opt.activation('tanh', 'the conv and hidden dense layers'),
    opt.fcActivation(null),
    opt.dropout(0, 'after dense 120 and dense 84'),
    opt.width(),
    opt.batchNorm(false),
    opt.overlap(false),
    opt.init(['glorot', 'he']),
  ],
  make(o) {
    const overlap = o.overlap as boolean;
    return {
      input: inputOf(o),
      classes: o.classes as number,
      layers: [
        ...convBlock(o, 1, conv(o, 'conv1', { filters: 6, kernel: 5, stride: 1, padding: 'valid' }), { pool: overlap }),
        ...convBlock(o, 2, conv(o, 'conv2', { filters: 16, kernel: 5, stride: 1, padding: 'valid' }), { pool: overlap }),
        { kind: 'flatten', name: 'flatten' },
        hiddenDense(o, 'fc1', 120),
        ...dropout(o, 'drop1'),
        hiddenDense(o, 'fc2', 84),
        ...dropout(o, 'drop2'),
        outputDense(o, 'fc3'),
      ],
    };
  },
};

const alexnet: ZooModel = {
  id: 'alexnet',
  title: 'AlexNet (Krizhevsky et al. 2012)',
  description: "The paper's network: 5 convs (conv2/4/5 in two groups), LRN, overlapping pooling, fc 4096-4096-1000; 60,965,224 params.",
  options: [
    opt.input('227x227x3'),
    opt.classes(1000),
    opt.activation('relu', 'the conv and hidden dense layers'),
    opt.fcActivation(null),
    opt.dropout(0.5, 'after fc6 and fc7'),
    opt.width(),
    opt.batchNorm(false),
    opt.overlap(true),
    opt.lrn(true),
    opt.grouped(),
    opt.init(['glorot', 'he', 'paper']),
  ],
  make(o) {
    const overlap = o.overlap as boolean;
    const layers = alexnetLayers(o, { padding: (pad) => pad, groups: o.grouped ? 2 : 1, pools: [overlap, overlap, overlap] });
    return { input: inputOf(o), classes: o.classes as number, layers };
  },
};

const alexnetBlog: ZooModel = {
  id: 'alexnet-blog',
  title: "AlexNet as in the blog's Keras code",
  description: 'ReLU convs each followed by BatchNormalization, no LRN, no groups, last pool 2x2, tanh fc 4096-4096, 10 classes; 58,327,818 params.',
  options: [
    opt.input('227x227x3'),
    opt.classes(10),
    opt.activation('relu', 'the conv layers'),
    opt.fcActivation('tanh'),
    opt.dropout(0.5, 'after fc6 and fc7'),
    opt.width(),
    opt.batchNorm(true),
    opt.overlap(null, 'pools 3x3/2, 3x3/2, 2x2/2'),
    opt.lrn(false),
    opt.init(['glorot', 'he', 'paper']),
  ],
  make(o) {
    const pools: [boolean, boolean, boolean] = o.overlap === null ? [true, true, false] : [o.overlap as boolean, o.overlap as boolean, o.overlap as boolean];
    const layers = alexnetLayers(o, { padding: (pad) => (pad === 0 ? 'valid' : 'same'), groups: 1, pools });
    return { input: inputOf(o), classes: o.classes as number, layers };
  },
};

const alexnetTorchvision: ZooModel = {
  id: 'alexnet-torchvision',
  title: "AlexNet as torchvision ships it",
  description: "torchvision's one-GPU AlexNet: convs 64-192-384-256-256 (conv1 padded), no LRN, no groups, dropout before fc6 and fc7; 61,100,840 params. Its pretrained weights import into it.",
  options: [
    opt.input('224x224x3'),
    opt.classes(1000),
    opt.activation('relu', 'the conv and hidden dense layers'),
    opt.fcActivation(null),
    opt.dropout(0.5, 'before fc6 and fc7'),
    opt.width(),
    opt.batchNorm(false),
    opt.overlap(true),
    opt.lrn(false),
    opt.init(['glorot', 'he']),
  ],
  make(o) {
    return { input: inputOf(o), classes: o.classes as number, layers: torchvisionLayers(o) };
  },
};

const ZOO: readonly ZooModel[] = [lenet5, alexnet, alexnetBlog, alexnetTorchvision];

/** The zoo's model ids, in order. */
export function modelIds(): string[] {
  return ZOO.map((m) => m.id);
}

export function listModels(): ModelInfo[] {
  return ZOO.map((m) => {
    const spec = getModelSpec(m.id);
    return {
      id: m.id,
      title: m.title,
      description: m.description,
      input: spec.input,
      classes: spec.classes,
      options: m.options.map((d) => ({ key: d.key, description: d.description, accepts: describeType(d), default: d.default })),
    };
  });
}

/**
 * The spec of a zoo model with options applied; throws UnknownModelError, OverrideError (unknown,
 * non-applicable or bad option) or SpecShapeError (options that make the network impossible).
 */
export function getModelSpec(id: string, overrides: Overrides = {}): ModelSpec {
  const model = ZOO.find((m) => m.id === id);
  if (!model) throw new UnknownModelError(id, modelIds());
  const resolved: Resolved = Object.fromEntries(model.options.map((d) => [d.key, d.default]));
  for (const [key, raw] of Object.entries(overrides)) {
    const def = model.options.find((d) => d.key === key);
    if (!def) throw new OverrideError(unknownOptionMessage(model, key));
    resolved[key] = coerceOption(model.id, def, raw);
  }
  const spec: ModelSpec = {
    id: model.id,
    title: model.title,
    ...model.make(resolved),
    options: Object.fromEntries(Object.entries(resolved).filter((e): e is [string, OptionValue] => e[1] !== null)),
  };
  inferShapes(spec);
  return spec;
}

function unknownOptionMessage(model: ZooModel, key: string): string {
  const valid = `valid options for ${model.id}: ${model.options.map((d) => d.key).join(', ')}`;
  const elsewhere = ZOO.filter((m) => m.options.some((d) => d.key === key)).map((m) => m.id);
  if (elsewhere.length > 0) return `option '${key}' does not apply to ${model.id} (only to ${elsewhere.join(', ')}); ${valid}`;
  return `unknown option '${key}' for ${model.id}; ${valid}`;
}
