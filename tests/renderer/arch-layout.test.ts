// The architecture diagram's geometry from the zoo's specs: towers, cross-tower links, sizes.
import { describe, it, expect } from 'vitest';
import { getModelSpec } from '../../src-main/engine/models/zoo';
import { summarizeSpec } from '../../src-main/engine/models/summary';
import { archFromSpec, archFromSummary, layoutArchitecture, rowShapeText, towerCount } from '../../src-renderer/src/architecture/layout';

describe('architecture layout', () => {
  it('draws LeNet-5 as one tower with the spec walk\'s parameter total', () => {
    const L = layoutArchitecture(archFromSpec(getModelSpec('lenet5')));
    expect(L.towers).toBe(1);
    expect(L.totalParams).toBe(44_426);
    expect(L.rows.map((r) => r.layer)).toEqual(['input', 'conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'fc1', 'fc2', 'fc3']);
    expect(L.edges).toHaveLength(L.rows.length - 1);
    expect(L.edges.every((e) => !e.cross)).toBe(true);
    // Rows go down the page without overlapping.
    for (let i = 1; i < L.rows.length; i++) expect(L.rows[i].y).toBeGreaterThanOrEqual(L.rows[i - 1].y + L.rows[i - 1].h);
    // A bigger map draws a taller block.
    const conv1 = L.rows.find((r) => r.layer === 'conv1')!;
    const conv2 = L.rows.find((r) => r.layer === 'conv2')!;
    expect(conv1.h).toBeGreaterThan(conv2.h);
    expect(conv1.config).toBe('6 @ 5x5 / 1, valid, tanh');
  });

  it('draws grouped AlexNet as two GPU towers, crossing only at conv3 and the dense layers', () => {
    const spec = getModelSpec('alexnet');
    expect(towerCount(archFromSpec(spec))).toBe(2);
    const L = layoutArchitecture(archFromSpec(spec));
    expect(L.totalParams).toBe(60_965_224);
    const crossInto = [...new Set(L.edges.filter((e) => e.cross).map((e) => e.to.layer))];
    expect(crossInto).toEqual(['conv3', 'fc6', 'fc7']);
    // The output layer is one block fed by both towers.
    expect(L.blocks.filter((b) => b.layer === 'fc8')).toHaveLength(1);
    expect(L.edges.filter((e) => e.to.layer === 'fc8')).toHaveLength(2);
    const conv2 = L.rows.find((r) => r.layer === 'conv2')!;
    expect(rowShapeText(conv2, 2)).toBe('27x27x128 ×2');
    expect(L.rows.find((r) => r.layer === 'lrn1')!.minor).toBe(true);
    expect(L.rows.find((r) => r.layer === 'pool1')!.config).toContain('overlapping');
  });

  it('draws ungrouped AlexNet as one tower', () => {
    const L = layoutArchitecture(archFromSpec(getModelSpec('alexnet', { grouped: false })));
    expect(L.towers).toBe(1);
    expect(L.totalParams).toBe(62_378_344);
  });

  it('draws a built model from its summary alone: conv and pooling windows with their strides', () => {
    const spec = getModelSpec('alexnet');
    const fromSummary = archFromSummary(summarizeSpec(spec), spec.input);
    const L = layoutArchitecture(fromSummary);
    const full = layoutArchitecture(archFromSpec(spec));
    expect(L.towers).toBe(2);
    expect(L.totalParams).toBe(full.totalParams);
    expect(L.edges.filter((e) => e.cross).map((e) => e.to.layer)).toEqual(full.edges.filter((e) => e.cross).map((e) => e.to.layer));
    expect(fromSummary.layers.find((l) => l.name === 'conv1')!.config).toBe('96 @ 11x11 / 4, relu');
    expect(fromSummary.layers.find((l) => l.name === 'conv2')!.config).toBe('256 @ 5x5 / 1, 2 groups, relu');
    expect(fromSummary.layers.find((l) => l.name === 'pool1')!.config).toBe('3x3 / 2 (overlapping)');
    const plain = archFromSummary(summarizeSpec(getModelSpec('alexnet', { overlap: false })), spec.input);
    expect(plain.layers.find((l) => l.name === 'pool1')!.config).toBe('2x2 / 2');
    // Without windows (an older engine's summary) the conv kernel comes from the parameter count.
    const bare = summarizeSpec(spec);
    const old = archFromSummary({ ...bare, layers: bare.layers.map(({ window: _w, ...l }) => l) }, spec.input);
    expect(old.layers.find((l) => l.name === 'conv1')!.config).toBe('96 @ 11x11 / 4, relu');
  });
});
