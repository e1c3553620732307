// The zoo's specs, walked without building: SEED_FACTS parameter counts, shapes, options and their errors.
import { describe, it, expect } from 'vitest';
import {
  countParams,
  getModelSpec,
  inferShapes,
  listModels,
  parseOverrides,
  OverrideError,
  SpecShapeError,
  UnknownModelError,
  type LayerSpec,
  type ModelSpec,
} from '../../src-main/engine/models';

const paramsByLayer = (spec: ModelSpec) =>
  Object.fromEntries(inferShapes(spec).filter((l) => l.params > 0).map((l) => [l.name, l.params]));
const kinds = (spec: ModelSpec) => spec.layers.map((l) => l.kind);
const layer = <K extends LayerSpec['kind']>(spec: ModelSpec, name: string, kind: K) => {
  const found = spec.layers.find((l) => l.name === name);
  if (!found || found.kind !== kind) throw new Error(`no ${kind} layer ${name}`);
  return found as Extract<LayerSpec, { kind: K }>;
};

describe('SEED_FACTS parameter counts from the spec walk', () => {
  it('lenet5: 44,426, per layer as in the notebook table', () => {
    const spec = getModelSpec('lenet5');
    expect(countParams(spec)).toEqual({ total: 44_426, trainable: 44_426, nonTrainable: 0 });
    expect(paramsByLayer(spec)).toEqual({ conv1: 156, conv2: 2_416, fc1: 30_840, fc2: 10_164, fc3: 850 });
    expect(inferShapes(spec).map((l) => l.outputShape)).toEqual([[24, 24, 6], [12, 12, 6], [8, 8, 16], [4, 4, 16], [256], [120], [84], [10]]);
  });

  it('alexnet (two-GPU grouped): 60,965,224, per layer as in the paper table', () => {
    const spec = getModelSpec('alexnet');
    expect(countParams(spec).total).toBe(60_965_224);
    expect(paramsByLayer(spec)).toEqual({
      conv1: 34_944,
      conv2: 307_456,
      conv3: 885_120,
      conv4: 663_936,
      conv5: 442_624,
      fc6: 37_752_832,
      fc7: 16_781_312,
      fc8: 4_097_000,
    });
    const shapes = Object.fromEntries(inferShapes(spec).map((l) => [l.name, l.outputShape]));
    expect(shapes).toMatchObject({ conv1: [55, 55, 96], pool1: [27, 27, 96], conv2: [27, 27, 256], pool2: [13, 13, 256], conv5: [13, 13, 256], pool5: [6, 6, 256], flatten: [9216] });
  });

  it('alexnet grouped=false: 62,378,344, per layer as in the ungrouped column', () => {
    const spec = getModelSpec('alexnet', { grouped: false });
    expect(countParams(spec).total).toBe(62_378_344);
    expect(paramsByLayer(spec)).toMatchObject({ conv1: 34_944, conv2: 614_656, conv3: 885_120, conv4: 1_327_488, conv5: 884_992 });
  });

  it('alexnet-blog: 58,327,818 total, 58,325,066 trainable; without BN 58,322,314; notebook input 224x224x1', () => {
    expect(countParams(getModelSpec('alexnet-blog'))).toEqual({ total: 58_327_818, trainable: 58_325_066, nonTrainable: 2_752 });
    expect(countParams(getModelSpec('alexnet-blog', { batchNorm: false }))).toEqual({ total: 58_322_314, trainable: 58_322_314, nonTrainable: 0 });
    expect(countParams(getModelSpec('alexnet-blog', { input: '224x224x1' }))).toEqual({ total: 58_304_586, trainable: 58_301_834, nonTrainable: 2_752 });
  });

  it('the overlap option leaves AlexNet shapes (and counts) unchanged at 227, as both poolings give 55-27-13-6', () => {
    for (const id of ['alexnet', 'alexnet-blog']) {
      for (const overlap of [true, false]) {
        const spec = getModelSpec(id, { overlap });
        expect(inferShapes(spec).find((l) => l.name === 'flatten')?.outputShape).toEqual([9216]);
        expect(countParams(spec)).toEqual(countParams(getModelSpec(id)));
      }
    }
  });
});

describe('model structure', () => {
  it('alexnet follows the paper: LRN after conv1/conv2, 3x3/2 pools, groups 2 in conv2/4/5, dropout after fc6/fc7', () => {
    const spec = getModelSpec('alexnet');
    expect(spec.layers.map((l) => l.name)).toEqual(
      ['conv1', 'lrn1', 'pool1', 'conv2', 'lrn2', 'pool2', 'conv3', 'conv4', 'conv5', 'pool5', 'flatten', 'fc6', 'drop6', 'fc7', 'drop7', 'fc8'],
    );
    expect(spec.layers.filter((l) => l.kind === 'conv').map((l) => [l.name, (l as { groups: number }).groups])).toEqual([
      ['conv1', 1], ['conv2', 2], ['conv3', 1], ['conv4', 2], ['conv5', 2],
    ]);
    expect(layer(spec, 'lrn1', 'lrn')).toMatchObject({ depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });
    expect(layer(spec, 'pool5', 'maxPool')).toMatchObject({ size: 3, stride: 2 });
    expect(layer(spec, 'drop6', 'dropout').rate).toBe(0.5);
    expect(layer(spec, 'fc8', 'dense')).toMatchObject({ units: 1000, activation: 'softmax' });
  });

  it('alexnet-blog: relu convs each followed by BN, pools 3x3/2, 3x3/2, 2x2/2, tanh fc, 10 classes', () => {
    const spec = getModelSpec('alexnet-blog');
    expect(kinds(spec)).toEqual([
      'conv', 'batchNorm', 'maxPool', 'conv', 'batchNorm', 'maxPool', 'conv', 'batchNorm', 'conv', 'batchNorm', 'conv', 'batchNorm', 'maxPool',
      'flatten', 'dense', 'dropout', 'dense', 'dropout', 'dense',
    ]);
    expect(spec.layers.filter((l) => l.kind === 'maxPool').map((l) => (l as { size: number }).size)).toEqual([3, 3, 2]);
    expect(layer(spec, 'fc6', 'dense').activation).toBe('tanh');
    expect(layer(spec, 'conv3', 'conv').activation).toBe('relu');
    expect(layer(spec, 'fc8', 'dense').units).toBe(10);
  });

  it('lenet5 has no Dropout layers by default, and dropout after both hidden dense layers when asked', () => {
    expect(kinds(getModelSpec('lenet5'))).not.toContain('dropout');
    const spec = getModelSpec('lenet5', { dropout: 0.2, activation: 'relu' });
    expect(spec.layers.map((l) => l.name).slice(4)).toEqual(['flatten', 'fc1', 'drop1', 'fc2', 'drop2', 'fc3']);
    expect(layer(spec, 'drop2', 'dropout').rate).toBe(0.2);
    expect(layer(spec, 'conv1', 'conv').activation).toBe('relu');
    expect(layer(spec, 'fc2', 'dense').activation).toBe('relu');
    expect(countParams(spec).total).toBe(44_426);
  });
});

describe('options', () => {
  it('activation and fcActivation set the conv and hidden dense activations (never the softmax output)', () => {
    const spec = getModelSpec('alexnet', { activation: 'tanh', fcActivation: 'sigmoid' });
    expect(layer(spec, 'conv4', 'conv').activation).toBe('tanh');
    expect(layer(spec, 'fc7', 'dense').activation).toBe('sigmoid');
    expect(layer(spec, 'fc8', 'dense').activation).toBe('softmax');
    expect(layer(getModelSpec('lenet5'), 'fc1', 'dense').activation).toBe('tanh');
  });

  it('lrn, overlap, batchNorm, grouped switch their layers', () => {
    expect(kinds(getModelSpec('alexnet', { lrn: false }))).not.toContain('lrn');
    expect(getModelSpec('alexnet-blog', { lrn: true }).layers.filter((l) => l.kind === 'lrn').map((l) => l.name)).toEqual(['lrn1', 'lrn2']);
    expect(getModelSpec('alexnet', { overlap: 'false' }).layers.filter((l) => l.kind === 'maxPool').map((l) => (l as { size: number }).size)).toEqual([2, 2, 2]);
    expect(getModelSpec('alexnet-blog', { overlap: true }).layers.filter((l) => l.kind === 'maxPool').map((l) => (l as { size: number }).size)).toEqual([3, 3, 3]);
    expect(getModelSpec('lenet5', { overlap: true }).layers.filter((l) => l.kind === 'maxPool').map((l) => (l as { size: number }).size)).toEqual([3, 3]);
    expect(getModelSpec('alexnet', { batchNorm: true }).layers.filter((l) => l.kind === 'batchNorm').map((l) => l.name)).toEqual(['bn1', 'bn2', 'bn3', 'bn4', 'bn5']);
    expect(getModelSpec('alexnet', { grouped: false }).layers.every((l) => l.kind !== 'conv' || l.groups === 1)).toBe(true);
  });

  it('width scales conv filters and hidden dense units (rounded to the group count), not the classes', () => {
    const spec = getModelSpec('alexnet', { width: 0.3 });
    const units = spec.layers.filter((l) => l.kind === 'conv' || l.kind === 'dense').map((l) => (l.kind === 'conv' ? l.filters : l.units));
    // 96*0.3 = 28.8 -> 28 (nearest multiple of 2), 256*0.3 = 76.8 -> 76, 384*0.3 = 115.2 -> 116, 4096*0.3 = 1228.8 -> 1229
    expect(units).toEqual([28, 76, 116, 116, 76, 1229, 1229, 1000]);
    const small = getModelSpec('lenet5', { width: 2 });
    expect(small.layers.filter((l) => l.kind === 'dense').map((l) => (l as { units: number }).units)).toEqual([240, 168, 10]);
    expect(countParams(getModelSpec('alexnet', { width: 0.25, input: '113x113x3', classes: 10 })).total).toBeLessThan(1_500_000);
  });

  it('input and classes apply; values come as strings (CLI) or typed (UI)', () => {
    const spec = getModelSpec('lenet5', { input: '32x32x3', classes: '5' });
    expect(spec.input).toEqual([32, 32, 3]);
    expect(spec.classes).toBe(5);
    expect(inferShapes(spec).at(-1)?.outputShape).toEqual([5]);
    expect(spec.options).toMatchObject({ input: '32x32x3', classes: 5, activation: 'tanh', dropout: 0 });
  });

  it('init: glorot by default; paper = N(0, 0.01) with biases 1 in conv2, conv4, conv5, fc6, fc7 only', () => {
    expect(layer(getModelSpec('alexnet'), 'conv2', 'conv')).toMatchObject({ kernelInit: { kind: 'glorotUniform' }, biasInit: { kind: 'zeros' } });
    const spec = getModelSpec('alexnet', { init: 'paper' });
    const inits = spec.layers.flatMap((l) => (l.kind === 'conv' || l.kind === 'dense' ? [[l.name, l.kernelInit, l.biasInit]] : []));
    const normal = { kind: 'randomNormal', mean: 0, stddev: 0.01 };
    const one = { kind: 'constant', value: 1 };
    const zero = { kind: 'zeros' };
    expect(inits).toEqual([
      ['conv1', normal, zero], ['conv2', normal, one], ['conv3', normal, zero], ['conv4', normal, one], ['conv5', normal, one],
      ['fc6', normal, one], ['fc7', normal, one], ['fc8', normal, zero],
    ]);
    expect(layer(getModelSpec('lenet5', { init: 'he' }), 'conv1', 'conv').kernelInit).toEqual({ kind: 'heNormal' });
  });

  it('listModels describes each model with its options', () => {
    const models = listModels();
    expect(models.map((m) => m.id)).toEqual(['lenet5', 'alexnet', 'alexnet-blog', 'alexnet-torchvision']);
    const alexnet = models.find((m) => m.id === 'alexnet')!;
    expect(alexnet.input).toEqual([227, 227, 3]);
    expect(alexnet.options.find((o) => o.key === 'grouped')).toMatchObject({ default: true, accepts: 'true or false' });
    expect(models.find((m) => m.id === 'lenet5')!.options.map((o) => o.key)).not.toContain('grouped');
  });
});

describe('errors', () => {
  it('an unknown model lists the known ones', () => {
    expect(() => getModelSpec('vgg16')).toThrow(UnknownModelError);
    expect(() => getModelSpec('vgg16')).toThrow("unknown model 'vgg16' (known models: lenet5, alexnet, alexnet-blog, alexnet-torchvision)");
  });

  it('an unknown key lists the valid keys for that model', () => {
    expect(() => getModelSpec('lenet5', { colour: 'red' })).toThrow(OverrideError);
    expect(() => getModelSpec('lenet5', { colour: 'red' })).toThrow(
      "unknown option 'colour' for lenet5; valid options for lenet5: input, classes, activation, fcActivation, dropout, width, batchNorm, overlap, init",
    );
  });

  it('an option of another model is rejected as not applicable', () => {
    expect(() => getModelSpec('lenet5', { grouped: true })).toThrow(/option 'grouped' does not apply to lenet5 \(only to alexnet\)/);
    expect(() => getModelSpec('alexnet-blog', { grouped: false })).toThrow(/does not apply to alexnet-blog/);
    expect(() => getModelSpec('lenet5', { lrn: true })).toThrow(/only to alexnet, alexnet-blog/);
  });

  it('bad values say what was expected', () => {
    const cases: [string, Record<string, string | number | boolean>, RegExp][] = [
      ['lenet5', { dropout: 1 }, /bad value '1' for option 'dropout' of lenet5: expected a number in \[0, 1\)/],
      ['lenet5', { dropout: 'lots' }, /expected a number in \[0, 1\)/],
      ['alexnet', { lrn: 'maybe' }, /bad value 'maybe' for option 'lrn' of alexnet: expected true or false/],
      ['alexnet', { activation: 'gelu' }, /expected one of relu, tanh, sigmoid/],
      ['lenet5', { init: 'paper' }, /expected one of glorot, he$/],
      ['lenet5', { classes: 2.5 }, /expected a whole number from 2 to 100000/],
      ['lenet5', { input: '28x28' }, /expected height x width x channels/],
      ['lenet5', { width: 0 }, /expected a number in \(0, 16\]/],
    ];
    for (const [id, overrides, message] of cases) expect(() => getModelSpec(id, overrides)).toThrow(message);
  });

  it('an input too small for AlexNet names the layer and the shapes', () => {
    const attempt = () => getModelSpec('alexnet', { input: '64x64x3' });
    expect(attempt).toThrow(SpecShapeError);
    // 64 -> conv1 14 -> pool1 6 -> conv2 6 -> pool2 2 -> pool5 cannot fit its 3x3 window
    expect(attempt).toThrow('alexnet: layer pool5 (maxPool 3x3/2 valid) cannot take input 2x2x256: the 3x3 window is larger than the input (model input 64x64x3)');
    expect(() => getModelSpec('lenet5', { input: '8x8x1' })).toThrow(/layer conv2 .* cannot take input 2x2x6/);
  });

  it('channels not divisible by groups, a dense before flatten, and a wrong class count are caught by the walk', () => {
    const base = getModelSpec('lenet5');
    const grouped: ModelSpec = { ...base, layers: base.layers.map((l) => (l.name === 'conv2' ? { ...(l as Extract<LayerSpec, { kind: 'conv' }>), groups: 4 } : l)) };
    expect(() => inferShapes(grouped)).toThrow('lenet5: layer conv2 (conv 16 5x5/1 valid groups 4 tanh) cannot take input 12x12x6: its 6 input channels cannot be split into 4 groups (model input 28x28x1)');
    const noFlatten: ModelSpec = { ...base, layers: base.layers.filter((l) => l.kind !== 'flatten') };
    expect(() => inferShapes(noFlatten)).toThrow(/layer fc1 .* cannot take input 4x4x16: it needs a flat input/);
    expect(() => inferShapes({ ...base, classes: 7 })).toThrow('lenet5: the last layer outputs 10, but the model has 7 classes');
    const twice: ModelSpec = { ...base, layers: [...base.layers.slice(0, 2), { kind: 'activation', name: 'pool1', activation: 'relu' }, ...base.layers.slice(2)] };
    expect(() => inferShapes(twice)).toThrow(/layer name 'pool1' is used twice/);
  });

  it('parseOverrides turns repeatable key=value arguments into a record and rejects malformed ones', () => {
    expect(parseOverrides(['width=0.5', 'input = 113x113x3', 'lrn=false'])).toEqual({ width: '0.5', input: '113x113x3', lrn: 'false' });
    expect(() => parseOverrides(['width'])).toThrow("expected key=value, got 'width'");
    expect(() => parseOverrides(['=3'])).toThrow(/missing key/);
    expect(() => parseOverrides(['width='])).toThrow(/missing value/);
    expect(() => parseOverrides(['__proto__=1'])).toThrow("'__proto__' is not an option name (in '__proto__=1')");
    expect(() => parseOverrides(['width=1', 'width=2'])).toThrow("option 'width' is given twice");
    expect(getModelSpec('alexnet', parseOverrides(['width=0.5', 'input=113x113x3', 'lrn=false'])).options).toMatchObject({ width: 0.5, lrn: false });
  });
});
