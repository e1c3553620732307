// The latest inspected image's result, shared so the Architecture view can draw activation thumbnails.
import type { InspectResult } from '../../../src-main/contract/inspect';

export const inspection = $state<{ result: InspectResult | null; modelLabel: string }>({ result: null, modelLabel: '' });
