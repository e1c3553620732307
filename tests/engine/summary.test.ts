// summarizeModel / summarizeSpec / formatSummary.
import { describe, it, expect, beforeAll } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { buildModel, formatSummary, getModelSpec, summarizeModel, summarizeSpec, type Overrides } from '../../src-main/engine/models';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('summarizeModel', () => {
  it('lenet5: every layer with its class, output shape and params; totals 44,426', () => {
    const model = buildModel(getModelSpec('lenet5', { activation: 'relu', dropout: 0.2 }), { seed: 0 });
    const summary = summarizeModel(model);
    model.dispose();
    expect(summary).toMatchObject({ name: 'lenet5', totalParams: 44_426, trainableParams: 44_426, nonTrainableParams: 0 });
    expect(summary.layers.map(({ name, type, outputShape, params }) => [name, type, outputShape, params])).toEqual([
      ['conv1', 'Conv2D', [null, 24, 24, 6], 156],
      ['pool1', 'MaxPooling2D', [null, 12, 12, 6], 0],
      ['conv2', 'Conv2D', [null, 8, 8, 16], 2_416],
      ['pool2', 'MaxPooling2D', [null, 4, 4, 16], 0],
      ['flatten', 'Flatten', [null, 256], 0],
      ['fc1', 'Dense', [null, 120], 30_840],
      ['drop1', 'Dropout', [null, 120], 0],
      ['fc2', 'Dense', [null, 84], 10_164],
      ['drop2', 'Dropout', [null, 84], 0],
      ['fc3', 'Dense', [null, 10], 850],
    ]);
    expect(summary.layers.find((l) => l.name === 'fc1')).toMatchObject({ kind: 'dense', activation: 'relu' });
    expect(summary.layers.find((l) => l.name === 'pool1')).toMatchObject({ kind: 'maxPool', activation: null });
  });

  it('counts BatchNormalization moving statistics as non-trainable', () => {
    const model = buildModel(getModelSpec('alexnet-blog', { width: 0.125, input: '99x99x3' }), { seed: 0 });
    const summary = summarizeModel(model);
    model.dispose();
    const bn1 = summary.layers.find((l) => l.name === 'bn1')!;
    expect([bn1.type, bn1.params, bn1.trainableParams]).toEqual(['BatchNormalization', 4 * 12, 2 * 12]);
    // channels 12 + 32 + 48 + 48 + 32 = 172, two moving statistics each
    expect(summary.nonTrainableParams).toBe(2 * 172);
  });
});

describe('summarizeSpec', () => {
  const variants: [string, Overrides][] = [
    ['lenet5', { dropout: 0.5, batchNorm: true }],
    ['alexnet', { width: 0.125, input: '99x99x3' }],
    ['alexnet', { width: 0.125, input: '99x99x3', grouped: false, batchNorm: true }],
    ['alexnet-blog', { width: 0.125, input: '99x99x1', lrn: true }],
  ];
  it.each(variants)('equals summarizeModel(buildModel(spec)) for %s %j', (id, overrides) => {
    const spec = getModelSpec(id, overrides);
    const model = buildModel(spec, { seed: 0 });
    const built = summarizeModel(model);
    model.dispose();
    expect(summarizeSpec(spec)).toEqual(built);
  });

  it('gives the SEED_FACTS totals of the full-size models without building them', () => {
    expect(summarizeSpec(getModelSpec('alexnet'))).toMatchObject({ totalParams: 60_965_224, trainableParams: 60_965_224 });
    expect(summarizeSpec(getModelSpec('alexnet-blog'))).toMatchObject({ totalParams: 58_327_818, trainableParams: 58_325_066, nonTrainableParams: 2_752 });
  });
});

describe('formatSummary', () => {
  it('prints a Keras-like table with thousands separators and the three totals', () => {
    const text = formatSummary(summarizeSpec(getModelSpec('alexnet')));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Model: alexnet');
    expect(lines[2]).toMatch(/^Layer \(type\)\s+Output shape\s+Params$/);
    expect(text).toMatch(/^conv2 \(GroupedConv2D\)\s+\(None, 27, 27, 256\)\s+307,456$/m);
    expect(text).toMatch(/^lrn1 \(LocalResponseNormalization\)\s+\(None, 55, 55, 96\)\s+0$/m);
    expect(text).toMatch(/^fc6 \(Dense\)\s+\(None, 4096\)\s+37,752,832$/m);
    expect(lines.slice(-3)).toEqual(['Total params: 60,965,224', 'Trainable params: 60,965,224', 'Non-trainable params: 0']);
    // Columns line up: every layer row has its params right-aligned to the same column.
    const rows = lines.filter((l) => /^\w+ \(/.test(l) && !l.startsWith('Layer'));
    expect(rows).toHaveLength(16);
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
  });

  it('shows non-trainable params of the blog model', () => {
    expect(formatSummary(summarizeSpec(getModelSpec('alexnet-blog')))).toMatch(/Total params: 58,327,818\nTrainable params: 58,325,066\nNon-trainable params: 2,752$/);
  });
});
