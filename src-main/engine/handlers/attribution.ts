// attribute: one method's map for an image, and its deletion / insertion curves for that image.
import type { EngineHandlers } from '../../contract/api';
import { attribute } from '../inspect/attribution/methods';
import { faithfulnessCurves } from '../inspect/attribution/faithfulness';
import type { EngineContext } from './context';
import { f32 } from './convert';
import { exampleImage } from './evaluate';

export function attributionHandlers(ctx: EngineContext): Pick<EngineHandlers, 'attribute'> {
  return {
    attribute: async ({ image, model, method, layer, classIndex }) =>
      ctx.withModel(model, async (m) => {
        const example = image.kind === 'example' ? await exampleImage(m, image.dataset, image.split, image.index) : null;
        const input = image.kind === 'bytes' ? image.data : image.kind === 'path' ? image.path : example!.bytes;
        const { x } = await m.prepare.prepare(input, { name: image.kind === 'bytes' ? image.name : example?.name });
        try {
          const t0 = performance.now();
          const map = await attribute(method, m.model, x, { layer, classIndex });
          const ms = performance.now() - t0;
          const curves = await faithfulnessCurves(m.model, x, map, map.classIndex);
          return {
            method,
            classIndex: map.classIndex,
            layer: map.layer ?? null,
            map: f32([map.height, map.width], map.values),
            deletion: curves.deletion,
            insertion: curves.insertion,
            stepSize: curves.stepSize,
            ms,
          };
        } finally {
          x.dispose();
        }
      }),
  };
}
