import { parseFlags } from '../args';
import { tf } from '../../engine/tf';
import { buildModel, formatSummary, getModelSpec, parseOverrides, summarizeModel, modelIds } from '../../engine/models';
import { UsageError } from '../errors';

const ZOO_IDS = modelIds().join(', ');

export const HELP = `usage: convscope summary --model ID [--set key=value ...] [--json]

Builds the model and prints its layers, output shapes and parameter counts.
  --model ID        ${ZOO_IDS}
  --set key=value   an override, repeatable (e.g. --set grouped=false --set input=113x113x3)
  --json            {totalParams, trainableParams, layers:[{name, type, outputShape, params}]}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    set: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  });
  if (!values.model) throw new UsageError(`--model is required (${ZOO_IDS})`);
  const spec = getModelSpec(values.model, parseOverrides(values.set ?? []));

  // Building allocates every weight; the pure-JS backend is enough and always there.
  await tf.setBackend('cpu');
  const model = buildModel(spec, { seed: 0 });
  const summary = summarizeModel(model);
  model.dispose();

  if (values.json) {
    const layers = summary.layers.map(({ name, type, outputShape, params }) => ({ name, type, outputShape, params }));
    const out = { model: spec.id, totalParams: summary.totalParams, trainableParams: summary.trainableParams, layers };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    process.stdout.write(formatSummary(summary) + '\n');
  }
  return 0;
}
