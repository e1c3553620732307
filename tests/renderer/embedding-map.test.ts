import { describe, expect, it } from 'vitest';
import { embeddingSvg, fitTransform, pointColour } from '../../src-renderer/src/charts/embedding-map';
import { CORRECTNESS_COLOURS, classColour } from '../../src-renderer/src/theme/insight-colours';

describe('embedding map layout', () => {
  it('fits the points into the box at one scale for both axes, y up, centred', () => {
    const coords = Float32Array.from([0, 0, 10, 0, 10, 5, 0, 5]); // a 10 x 5 rectangle
    const t = fitTransform(coords, 220, 220, 10);
    // 200 px for 10 units: 20 px a unit on both axes; the 100 px tall rectangle centred vertically.
    expect([t.x(0), t.x(10)]).toEqual([10, 210]);
    expect([t.y(0), t.y(5)]).toEqual([160, 60]);
  });

  it('colours by class or by whether the prediction was right', () => {
    const p = { coords: new Float32Array(4), labels: Int32Array.from([3, 1]), predicted: Int32Array.from([3, 2]), classNames: ['a', 'b', 'c', 'd'] };
    expect(pointColour(p, 0, 'label')).toBe(classColour(3, 4));
    expect(pointColour(p, 0, 'correctness')).toBe(CORRECTNESS_COLOURS.right);
    expect(pointColour(p, 1, 'correctness')).toBe(CORRECTNESS_COLOURS.wrong);
    // Many classes still get distinct colours.
    expect(new Set(Array.from({ length: 100 }, (_, i) => classColour(i, 100))).size).toBe(100);
  });

  it('writes one circle per point, a legend entry per class and the mark', () => {
    const p = { coords: Float32Array.from([0, 0, 1, 1, 2, 0]), labels: Int32Array.from([0, 1, 1]), predicted: Int32Array.from([0, 1, 0]), classNames: ['zero', 'one'] };
    const svg = embeddingSvg(p, { mark: [1, 1], title: 'test <map>' });
    expect(svg.match(/<circle/g)).toHaveLength(3 + 2 + 2);
    expect(svg).toContain('>zero</text>');
    expect(svg).toContain('test &lt;map&gt;');
  });
});
