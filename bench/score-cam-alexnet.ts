// Score-CAM's cost on the full zoo AlexNet (227x227x3, conv5's 256 channels = 256 masked forward
// passes) for one image, beside Grad-CAM's, on the chosen backend.
//   npx tsx bench/score-cam-alexnet.ts [backend] [batch size]
import { initBackend } from '../src-main/engine/backend';
import { buildModel, getModelSpec } from '../src-main/engine/models';
import { tf } from '../src-main/engine/tf';
import { attribute } from '../src-main/engine/inspect/attribution/methods';

const report = await initBackend(process.argv[2] ?? 'auto');
const batchSize = Number(process.argv[3] ?? 16);
const model = buildModel(getModelSpec('alexnet', {}), { seed: 1 });
const x = tf.randomUniform([1, 227, 227, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
const time = async (method: 'gradcam' | 'scorecam') => {
  const t0 = performance.now();
  const map = await attribute(method, model, x, { batchSize });
  return { ms: performance.now() - t0, layer: map.layer };
};
const warm = await time('gradcam');
const grad = await time('gradcam');
const score1 = await time('scorecam');
const score2 = await time('scorecam');
console.log(JSON.stringify({ backend: report.chosen, batchSize, layer: score1.layer, gradCamMs: [warm.ms, grad.ms].map(Math.round), scoreCamMs: [score1.ms, score2.ms].map(Math.round) }));
x.dispose();
model.dispose();
