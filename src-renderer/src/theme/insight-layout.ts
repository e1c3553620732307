// Layout constants of the insight views (pixels unless named otherwise).
export const INSIGHT_LAYOUT = {
  kernelSize: 96,
  visSize: 160,
  layerVisSize: 64,
  patchSize: 72,
  /** Test images a channel's top patches are drawn from (the pass is cached per model and layer). */
  patchExamples: 2000,
  /** Feature visualisation steps in the UI. */
  visSteps: 128,
  neighbourThumb: 84,
  map: { width: 640, height: 520, pointRadius: 2, hoverThumb: 84, examples: 10_000 },
} as const;
