// Text on a confusion-matrix cell meets WCAG AA (4.5:1) on every step of the heat scale, in both themes
// (the e2e axe check once failed at 4.3:1 on a mid-scale cell).
import { rgb } from 'd3';
import { describe, expect, it } from 'vitest';
import { cellTextColour } from '../../src-renderer/src/charts/confusion-matrix';
import { heatColour, textColourOn } from '../../src-renderer/src/theme/colours';

function luminance(css: string): number {
  const c = rgb(css);
  const [r, g, b] = [c.r, c.g, c.b].map((v) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

describe('text colour on a cell', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`reaches 4.5:1 on every step of the ${theme} heat scale`, () => {
      let worst = Infinity;
      for (let i = 0; i <= 1000; i++) {
        const fraction = i / 1000;
        worst = Math.min(worst, contrast(cellTextColour(fraction, theme), heatColour(fraction, theme)));
      }
      expect(worst).toBeGreaterThanOrEqual(4.5);
    });
  }

  it('picks black on light fills and white on dark ones', () => {
    expect(textColourOn('#ffffff')).toBe('#000000');
    expect(textColourOn('#000000')).toBe('#ffffff');
    expect(textColourOn('#777777')).toBe('#000000'); // 4.69:1 with black, 4.48:1 with white
    expect(textColourOn('#1f4e9c')).toBe('#ffffff');
  });
});
