// Layout constants of the insight views (pixels unless named otherwise).
export const INSIGHT_LAYOUT = {
  kernelSize: 96,
  visSize: 160,
  layerVisSize: 64,
  patchSize: 72,
  /** Feature visualisation steps in the UI. */
  visSteps: 128,
  neighbourThumb: 84,
  map: { width: 640, height: 520, pointRadius: 2, hoverThumb: 84, examples: 10_000 },
} as const;
