// inspect, kernels, kernelTimeline.
import path from 'node:path';
import type { EngineHandlers } from '../../contract/api';
import type { InspectResult } from '../../contract/inspect';
import {
  activationProbe,
  convKernels,
  differenceToFirst,
  filterNormsOverTime,
  inspectImage,
  LayerChoiceError,
  loadKernelSnapshot,
  openKernelTimeline,
  type Inspection,
} from '../inspect';
import type { EngineContext } from './context';
import { f32 } from './convert';
import { userError } from './errors';
import { exampleImage } from './evaluate';

type InspectHandlers = Pick<EngineHandlers, 'inspect' | 'kernels' | 'kernelTimeline'>;

export function inspectHandlers(ctx: EngineContext): InspectHandlers {
  return {
    inspect: async ({ image, model, options = {} }) =>
      ctx.withModel(model, async (m) => {
        if (options.layers) {
          const names = activationProbe(m.model).outputs.map((o) => o.name);
          const unknown = options.layers.filter((l) => !names.includes(l));
          if (unknown.length > 0) throw new LayerChoiceError(`the model has no layer ${unknown.map((l) => `'${l}'`).join(', ')} (layers: ${names.join(', ')})`);
        }
        const { classIndex } = options;
        const example = image.kind === 'example' ? await exampleImage(m, image.dataset, image.split, image.index) : null;
        const input = image.kind === 'bytes' ? image.data : image.kind === 'path' ? image.path : example!.bytes;
        const inspection = await inspectImage(m, input, {
          topK: options.topK,
          saliency: options.saliency === true && { classIndex },
          gradCam: options.gradCam !== undefined && options.gradCam !== false && { classIndex, layer: options.gradCam === true ? undefined : options.gradCam.layer },
          name: image.kind === 'bytes' ? image.name : example?.name,
        });
        return inspectResult(inspection, options.layers, m.classNames);
      }),

    kernels: async ({ model, layer }) =>
      ctx.withModel(model, async (m) => {
        const all = await convKernels(m.model);
        const chosen = layer === undefined ? all : all.filter((k) => k.name === layer);
        if (layer !== undefined && chosen.length === 0) {
          throw new LayerChoiceError(`the model has no conv layer '${layer}' (conv layers: ${all.map((k) => k.name).join(', ') || 'none'})`);
        }
        // Copied: on the cpu backend the arrays are the weights' own storage, and results may be transferred.
        return { layers: chosen.map((k) => ({ layer: k.name, kernel: f32(k.shape, k.values.slice()) })) };
      }),

    kernelTimeline: async ({ runDir, layer, snapshot }) => {
      const timeline = openKernelTimeline(path.resolve(runDir));
      const count = timeline.snapshots.length;
      if (count === 0) throw userError(`${runDir} has taken no kernel snapshot yet`, 'no-snapshots');
      const norms = filterNormsOverTime(timeline, layer);
      const n = snapshot ?? count - 1;
      if (n >= count) throw userError(`snapshot ${n} does not exist: the run has ${count} kernel snapshots (0 to ${count - 1})`, 'bad-snapshot');
      const filters = norms.norms[0]?.length ?? 0;
      const flat = new Float32Array(count * filters);
      norms.norms.forEach((row, i) => flat.set(row, i * filters));
      const kernel = loadKernelSnapshot(timeline, n, layer)[0];
      const difference = differenceToFirst(timeline, n, layer)[0];
      const ref = (i: number) => ({ index: i, step: timeline.snapshots[i].step, epoch: timeline.snapshots[i].epoch });
      return {
        layer,
        layers: timeline.layers,
        snapshots: timeline.snapshots.map((_, i) => ref(i)),
        norms: f32([count, filters], flat),
        snapshot: ref(n),
        kernel: f32(kernel.shape, kernel.values.slice()),
        difference: f32(difference.shape, difference.values),
      };
    },
  };
}

function inspectResult(inspection: Inspection, only: readonly string[] | undefined, classNames: readonly string[] | null): InspectResult {
  const { input, saliency, gradCam } = inspection;
  const layers = only ? inspection.layers.filter((l) => only.includes(l.name)) : inspection.layers;
  const [pixelHeight, pixelWidth, pixelChannels] = input.pixelShape;
  return {
    input: f32([input.height, input.width, input.channels], input.values),
    image: { width: pixelWidth, height: pixelHeight, channels: pixelChannels },
    layers: layers.map((l) => ({ name: l.name, className: l.className, kind: l.kind, activation: l.activation, output: f32(l.shape, l.values), stats: l.stats })),
    predictions: inspection.predictions,
    classNames: classNames ? [...classNames] : null,
    saliency: saliency ? { classIndex: saliency.classIndex, score: saliency.score, map: f32([saliency.height, saliency.width], saliency.values) } : null,
    gradCam: gradCam
      ? {
          layer: gradCam.layer,
          classIndex: gradCam.classIndex,
          score: gradCam.score,
          map: f32([gradCam.height, gradCam.width], gradCam.values),
          upsampled: f32([gradCam.upsampled.height, gradCam.upsampled.width], gradCam.upsampled.values),
        }
      : null,
  };
}
