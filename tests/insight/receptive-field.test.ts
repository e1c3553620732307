import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-main/engine/tf';
import { buildModel, getModelSpec } from '../../src-main/engine/models';
import { receptiveField, receptiveFields, unitWindow } from '../../src-main/engine/insight/receptive-field';

const built: tf.LayersModel[] = [];
const model = (id: string, overrides: Record<string, string | number | boolean> = {}) => {
  const m = buildModel(getModelSpec(id, overrides), { seed: 0 });
  built.push(m);
  return m;
};
afterAll(() => built.forEach((m) => m.dispose()));

describe('receptive fields, checked by hand', () => {
  it('LeNet-5 (28x28, 5x5 valid convs, 2x2 pools)', () => {
    const m = model('lenet5');
    const sizes = Object.fromEntries(receptiveFields(m).map((f) => [f.layer, [f.y.size, f.y.jump]]));
    expect(sizes).toMatchObject({ conv1: [5, 1], pool1: [6, 2], conv2: [14, 2], pool2: [16, 4] });
    expect(receptiveField(m, 'fc2').outputSize).toBeNull();
    // conv2 unit (3, 2): starts at 2 * 3 = 6 down, 2 * 2 = 4 across.
    expect(unitWindow(receptiveField(m, 'conv2'), 3, 2)).toEqual({ top: 6, left: 4, height: 14, width: 14 });
  });

  it('paper AlexNet (227x227): 11, 19, 51, 67, 99, 131, 163, 195', () => {
    const m = model('alexnet', { width: 0.0625 });
    const f = (name: string) => receptiveField(m, name);
    expect([f('conv1').x.size, f('conv1').x.jump]).toEqual([11, 4]);
    expect([f('pool1').x.size, f('pool1').x.jump]).toEqual([19, 8]);
    expect([f('conv2').x.size, f('conv2').x.jump]).toEqual([51, 8]);
    expect([f('pool2').x.size, f('pool2').x.jump]).toEqual([67, 16]);
    expect(f('conv3').x.size).toBe(99);
    expect(f('conv4').x.size).toBe(131);
    expect([f('conv5').x.size, f('conv5').x.jump]).toEqual([163, 16]);
    expect([f('pool5').x.size, f('pool5').x.jump]).toEqual([195, 32]);
    // conv2 pads 2 ('same' at stride 1): its first unit starts 2 * 8 = 16 pixels before the image, clipped.
    expect(f('conv2').x.start).toBe(-16);
    expect(unitWindow(f('conv2'), 0, 0)).toEqual({ top: 0, left: 0, height: 35, width: 35 });
    const last = f('conv5').outputSize![1] - 1;
    const w = unitWindow(f('conv5'), last, last);
    expect(w.top + w.height).toBe(227);
    expect(w.left + w.width).toBe(227);
  });

  it('names the layer it cannot find', () => {
    expect(() => receptiveField(model('lenet5'), 'conv9')).toThrow(/no layer 'conv9'/);
  });
});

describe('receptive fields of an imported model', () => {
  it('follows an explicit padding (torchvision AlexNet conv1: pad 2)', async () => {
    const { importModel } = await import('../../src-main/engine/import');
    const { model: m } = await importModel(path.resolve(import.meta.dirname, '../fixtures/import/alexnet-torchvision-small.onnx'));
    built.push(m);
    const fields = receptiveFields(m);
    // 11 at stride 4 starting 2 pixels before the image; then as the paper's, shifted by that pad.
    expect(fields.slice(0, 3).map((f) => [f.y.size, f.y.jump, f.y.start])).toEqual([[11, 4, -2], [19, 8, -2], [51, 8, -18]]);
    expect(unitWindow(fields[0], 0, 0)).toEqual({ top: 0, left: 0, height: 9, width: 9 });
  });
});
