// deadRelu, evaluate, examples: a model against a dataset opened the way its run's trainer opened it (same
// preprocessing, same held-out split), or for other models with the model's own preprocessing where it
// fits the dataset's images, else pixels / 255.
import sharp from 'sharp';
import type { EngineHandlers } from '../../contract/api';
import { tensor } from '../../contract/common';
import type { Split } from '../../contract/inspect';
import type { DataSplit, Examples } from '../data/dataset';
import { builtinDatasets, folderOfId } from '../data/registry';
import { classLabel, deadRelus, evaluateModel } from '../inspect';
import { defaultConfig, type PreparedData, type TrainConfig } from '../train';
import { openTrainData } from '../train/open-data';
import type { EngineContext } from './context';
import { plainF32, plainI32 } from './convert';
import { userError } from './errors';
import { dataSpec, type LoadedModel } from './model-refs';

type EvaluateHandlers = Pick<EngineHandlers, 'deadRelu' | 'evaluate' | 'examples'>;

export const DEFAULT_PROBE_SIZE = 256;

export function evaluateHandlers(ctx: EngineContext): EvaluateHandlers {
  return {
    deadRelu: async ({ model, dataset, probeSize }) =>
      ctx.withModel(model, async (m) => {
        const { prepared, id } = await openData(m, dataset);
        const split = prepared.data.test ?? prepared.data.train;
        const report = await deadRelus(m.model, split, { probeSize: probeSize ?? DEFAULT_PROBE_SIZE });
        return { dataset: id, probeSize: report.probeSize, layers: report.layers.map((l) => ({ ...l, deadFraction: plainF32(l.deadFraction) })) };
      }),

    evaluate: async ({ model, dataset, split = 'test', limit, batchSize }) =>
      ctx.withModel(model, async (m) => {
        const { prepared, id } = await openData(m, dataset);
        const examples = split === 'test' ? prepared.data.test : prepared.data.train;
        if (!examples) throw userError(`${id} has no held-out examples to evaluate on`, 'no-test-split');
        const e = await evaluateModel(m.model, examples, { limit, batchSize });
        const names = prepared.dataset?.classNames ?? m.classNames;
        return {
          dataset: id,
          split,
          examples: e.examples,
          classNames: Array.from({ length: e.classes }, (_, i) => classLabel(i, names)),
          accuracy: e.accuracy,
          top1Error: e.top1Error,
          top5Error: e.top5Error,
          confusion: tensor('uint32', [e.classes, e.classes], e.confusion),
          predicted: plainI32(e.predicted),
          labels: plainI32(e.labels),
          shape: datasetShape(id, m.input) ?? m.input,
        };
      }),

    examples: async ({ model, dataset, split, indices }) =>
      ctx.withModel(model, async (m) => {
        const { prepared, id } = await openData(m, dataset);
        const { examples, read } = await readStored(prepared, id, split, indices);
        return {
          dataset: id,
          split,
          images: tensor('uint8', [read.count, ...examples.shape], read.images),
          labels: plainI32(read.labels),
          classNames: Array.from({ length: prepared.data.classes }, (_, i) => classLabel(i, prepared.dataset?.classNames ?? m.classNames)),
        };
      }),
  };
}

/** The stored examples at `indices` of a split, numbered as `evaluate` numbers them. */
async function readStored(prepared: PreparedData, id: string, split: Split, indices: readonly number[]): Promise<{ examples: DataSplit; read: Examples }> {
  const examples = split === 'test' ? prepared.stored?.test : prepared.stored?.train;
  if (!examples) throw userError(`${id} has no ${split} examples to open`, 'no-test-split');
  const bad = indices.find((i) => i >= examples.count);
  if (bad !== undefined) throw userError(`${id} has ${examples.count} ${split} examples (0 to ${examples.count - 1}); there is no example ${bad}`, 'bad-index');
  return { examples, read: await examples.read(indices) };
}

/**
 * One example of a dataset split as a PNG of its stored pixels, numbered as `evaluate` numbers them (the
 * same split, holdout and order), for inspecting through the model's usual input path.
 */
export async function exampleImage(m: LoadedModel, dataset: string | undefined, split: Split, index: number): Promise<{ bytes: Uint8Array; name: string }> {
  const { prepared, id } = await openData(m, dataset);
  const { examples, read } = await readStored(prepared, id, split, [index]);
  const { images } = read;
  const [height, width, channels] = examples.shape;
  const png = await sharp(Buffer.from(images.buffer, images.byteOffset, images.byteLength), { raw: { width, height, channels: channels as 1 | 3 } }).png().toBuffer();
  return { bytes: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), name: `${id} ${split} example ${index}` };
}

/** What opening a dataset for a model reads of it (a handler's LoadedModel, or the CLI's ResolvedModel). */
export type DataModel = Pick<LoadedModel, 'source' | 'model' | 'input' | 'preprocessor'>;

/** The dataset (default: the run's own, else the built-in one the model's input and outputs fit). */
export async function openData(m: DataModel, requested: string | undefined): Promise<{ prepared: PreparedData; id: string }> {
  const run = m.source.kind === 'run' ? m.source : null;
  const id = requested ?? run?.config.dataset ?? naturalDataset(m);
  let prepared: PreparedData;
  if (run && id === run.config.dataset) {
    prepared = await openTrainData({ ...run.config, limit: null, testLimit: null }, run.spec, run.preprocess ?? undefined);
  } else {
    const config: TrainConfig = run ? { ...run.config, dataset: id, limit: null, testLimit: null } : { ...defaultConfig(m.model.name, id), preprocess: 'scale' };
    const shape = datasetShape(id, m.input);
    const own = shape !== null && m.preprocessor.shape.every((d, i) => d === shape[i]);
    prepared = await openTrainData(config, dataSpec(m), own ? m.preprocessor : undefined);
  }
  const outputs = m.model.outputs[0].shape.at(-1) ?? 0;
  if (prepared.data.classes > outputs) throw userError(`${id} has ${prepared.data.classes} classes but the model has ${outputs} outputs`, 'class-mismatch');
  return { prepared, id };
}

function naturalDataset(m: DataModel): string {
  const outputs = m.model.outputs[0].shape.at(-1);
  const fits = builtinDatasets().find((d) => d.location !== null && d.classNames.length === outputs && d.shape.every((v, i) => v === m.input[i]));
  if (!fits) throw userError(`name a dataset: no built-in dataset on this machine has ${m.input.join('x')} images in ${outputs} classes`, 'no-dataset');
  return fits.id;
}

/** The images' [h, w, c] as the data module stores them: built-in datasets' own, folders' at the model's input size. */
function datasetShape(id: string, input: readonly [number, number, number]): [number, number, number] | null {
  const builtin = builtinDatasets().find((d) => d.id === id);
  if (builtin) return [...builtin.shape];
  if (folderOfId(id) === null) return null;
  const side = Math.max(input[0], input[1]);
  return [side, side, input[2] === 1 ? 1 : 3];
}
