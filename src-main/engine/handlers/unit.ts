// unitArithmetic: the image prepared as for inspect, then one unit's arithmetic.
import type { EngineHandlers } from '../../contract/api';
import { unitArithmetic } from '../inspect/unit-arithmetic';
import type { EngineContext } from './context';
import { exampleImage } from './evaluate';

export function unitHandlers(ctx: EngineContext): Pick<EngineHandlers, 'unitArithmetic'> {
  return {
    unitArithmetic: async ({ image, model, unit }) =>
      ctx.withModel(model, async (m) => {
        const example = image.kind === 'example' ? await exampleImage(m, image.dataset, image.split, image.index) : null;
        const input = image.kind === 'bytes' ? image.data : image.kind === 'path' ? image.path : example!.bytes;
        const { x } = await m.prepare.prepare(input, { name: image.kind === 'bytes' ? image.name : example?.name });
        try {
          return await unitArithmetic(m.model, x, unit);
        } finally {
          x.dispose();
        }
      }),
  };
}
