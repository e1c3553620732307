// Colours of the insight views: one per class on the embedding map, right / wrong predictions, the
// marked current image. Pure, so the CLI's SVG map uses the same ones.
import { interpolateSinebow, schemeTableau10 } from 'd3';

/** Tableau 10 for up to ten classes (MNIST's digits), an even walk round the hue circle beyond. */
export function classColour(i: number, classes: number): string {
  if (classes <= 10) return schemeTableau10[((i % 10) + 10) % 10];
  return interpolateSinebow(((i % classes) + 0.5) / classes);
}

export const CORRECTNESS_COLOURS = { right: '#59a14f', wrong: '#e15759' } as const;

/** The current image on the map: a ring that reads on light and dark backgrounds. */
export const MARK_COLOURS = { ring: '#000000', halo: '#ffffff' } as const;
