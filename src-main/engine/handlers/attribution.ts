// attribute: one method's map for an image, and its deletion / insertion curves for that image.
import sharp from 'sharp';
import type { EngineHandlers } from '../../contract/api';
import type { tf } from '../tf';
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
        let baseline: tf.Tensor4D | undefined;
        try {
          // Integrated Gradients from black: a black image through the model's own input preparation.
          if (method === 'integrated-gradients') {
            const [, height, width] = x.shape;
            const black = await sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer();
            baseline = (await m.prepare.prepare(black, { name: 'black' })).x;
          }
          const t0 = performance.now();
          const map = await attribute(method, m.model, x, { layer, classIndex, baseline });
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
          baseline?.dispose();
        }
      }),
  };
}
