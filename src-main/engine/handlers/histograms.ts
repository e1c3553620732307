// runHistograms: one layer's histograms from a run folder's histograms.jsonl.
import path from 'node:path';
import type { EngineHandlers } from '../../contract/api';
import { isRunFolder } from '../inspect';
import { HISTOGRAM_FILE, readHistograms } from '../train/histograms';
import { userError } from './errors';

export function histogramHandlers(): Pick<EngineHandlers, 'runHistograms'> {
  return {
    runHistograms: async ({ runDir, layer }) => {
      const dir = path.resolve(runDir);
      if (!isRunFolder(dir)) throw userError(`${dir} is not a run folder`, 'not-a-run');
      const all = readHistograms(path.join(dir, HISTOGRAM_FILE));
      if (!all) return { available: false, layers: [], layer: null, stopped: null, records: [] };
      const layers = [...new Set(all.flatMap((r) => r.layers.map((l) => l.layer)))];
      const chosen = layer ?? layers[0] ?? null;
      if (layer !== undefined && !layers.includes(layer)) throw userError(`the run has no histograms of '${layer}' (layers: ${layers.join(', ')})`, 'bad-layer');
      return {
        available: true,
        layers,
        layer: chosen,
        stopped: all.at(-1)?.stopped ?? null,
        records: all.flatMap((r) => {
          const l = r.layers.find((x) => x.layer === chosen);
          return l ? [{ step: r.step, epoch: r.epoch, weights: l.weights ?? null, activations: l.activations ?? null, gradients: l.gradients ?? null }] : [];
        }),
      };
    },
  };
}
