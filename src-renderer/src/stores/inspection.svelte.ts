// The latest inspected image's result, shared so the Architecture view can draw activation thumbnails.
import type { ModelRef } from '../../../src-main/contract/common';
import type { InspectResult } from '../../../src-main/contract/inspect';

/** `modelRef`: the model that made `result` (the channel insight asks it for patches and visualisations). */
export const inspection = $state<{ result: InspectResult | null; modelLabel: string; modelRef: ModelRef | null }>({ result: null, modelLabel: '', modelRef: null });
