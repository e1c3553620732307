// Layout constants in one place (pixels unless named otherwise).
export const LAYOUT = {
  sidebarWidth: 208,
  /** Architecture diagram */
  arch: {
    blockMinHeight: 34,
    blockMaxHeight: 150,
    blockWidth: 132,
    columnGap: 36,
    towerGap: 26,
    padding: 24,
    thumbSize: 28,
    /** The layer text beside the blocks (name, config, shape, params): at least this wide, else as its longest line. */
    textMinWidth: 150,
    /** A character of the diagram's 12 px text, generously (system-ui is DejaVu Sans on Linux). */
    charWidth: 6.6,
    /** Between the text column and the thumbnails. */
    textGap: 16,
  },
  /** Activation grids */
  activations: { mapSize: 72, mapGap: 6, maxChannelsPerPage: 96, zoomSize: 320 },
  /** Kernel grids */
  kernels: { cell: 40, gap: 4, maxPerPage: 128 },
  /** Charts */
  chart: { width: 560, height: 260, margin: { top: 16, right: 16, bottom: 40, left: 56 }, legendRow: 18 },
  heatStrip: { cellWidth: 8, rowHeight: 16, labelWidth: 88 },
  confusion: { cell: 32, label: 64 },
  /** A view switch must take under this long (milliseconds, checked in the e2e tests). */
  viewSwitchBudgetMs: 200,
} as const;
