// Checks an imported model against the framework it came from: its predictions on the first test images
// of a dataset (fed as attribution-eval feeds them: resized to the model's input, its own normalisation)
// beside the predictions the training script stored. Run:
//   npx tsx scripts/check-import-agreement.ts MODEL_DIR DATASET TRAINING_JSON
// TRAINING_JSON holds {"first1000Predictions": [class, ...]} (scripts/train-alexnet-style-fashion.py writes it).
import { readFileSync } from 'node:fs';
import { tf } from '../src-main/engine/tf';
import { resolveModel } from '../src-main/engine/inspect/model-ref';
import { datasetInputs } from '../src-main/engine/inspect/attribution/dataset-inputs';

const [modelDir, dataset, trainingJson] = process.argv.slice(2);
if (!modelDir || !dataset || !trainingJson) {
  console.error('usage: npx tsx scripts/check-import-agreement.ts MODEL_DIR DATASET TRAINING_JSON');
  process.exit(2);
}
const expected = (JSON.parse(readFileSync(trainingJson, 'utf8')) as { first1000Predictions: number[] }).first1000Predictions;
const resolved = await resolveModel(modelDir);
const inputs = await datasetInputs(resolved, dataset);
let agree = 0;
let correct = 0;
for (let start = 0; start < expected.length; start += 100) {
  const indices = Array.from({ length: Math.min(100, expected.length - start) }, (_, k) => start + k);
  const { x, labels } = await inputs.batch(indices);
  const predicted = tf.tidy(() => tf.argMax(resolved.model.predict(x) as tf.Tensor, -1));
  const [p, l] = [await predicted.data(), await labels.data()];
  indices.forEach((i, k) => {
    if (p[k] === expected[i]) agree++;
    if (p[k] === l[k]) correct++;
  });
  tf.dispose([x, labels, predicted]);
}
console.log(JSON.stringify({ images: expected.length, agreeing: agree, accuracy: correct / expected.length }));
