// A dataset's held-out images as a model's inputs: a run's own split and preprocessing when the run was
// trained on that dataset, else the dataset's test split resized / converted to the model's input and
// preprocessed with the model's preprocessor. Plus the black image as an input (Integrated Gradients' baseline).
import { tf } from '../../tf';
import { openDataset } from '../../data/registry';
import { adaptToInput, preprocessBatch, type Preprocessor } from '../../data/preprocess';
import type { ResolvedModel } from '../model-ref';
import { openHeldOut } from '../run-data';
import { ModelRefError } from '../errors';

export interface DatasetInputs {
  dataset: string;
  count: number;
  classNames: readonly string[] | null;
  /** [n, h, w, c] inputs and their labels; the caller disposes both. */
  batch(indices: number[]): Promise<{ x: tf.Tensor4D; labels: tf.Tensor1D }>;
  /** The all-black image as the model sees it, [1, h, w, c]; the caller disposes it. */
  black(): tf.Tensor4D;
}

/** (v - mean) * scale on an input-sized [n, h, w, c] batch of 0-255 values. */
function preprocessAdapted(p: Preprocessor, x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w, c] = x.shape;
  const image = p.kind === 'mean-image';
  if (p.mean.length > 0 && p.mean.length !== (image ? h * w * c : c)) throw new ModelRefError(`the model's ${p.kind} preprocessing (${p.mean.length} means) does not fit a ${h}x${w}x${c} input`);
  return tf.tidy(() => {
    if (p.mean.length === 0) return tf.mul(x, p.scale) as tf.Tensor4D;
    const mean = tf.tensor(p.mean, image ? [1, h, w, c] : [1, 1, 1, c]);
    return tf.mul(tf.sub(x, mean), p.scale) as tf.Tensor4D;
  });
}

export async function datasetInputs(resolved: Pick<ResolvedModel, 'source' | 'input' | 'preprocessor'>, dataset: string): Promise<DatasetInputs> {
  const { source, input, preprocessor } = resolved;
  if (source.kind === 'run' && source.config.dataset === dataset) {
    const held = await openHeldOut(source);
    const p = preprocessor;
    return {
      dataset,
      count: held.split.size,
      classNames: held.classNames,
      batch: async (indices) => {
        const b = await held.split.batch(indices);
        return { x: b.x, labels: b.labels as tf.Tensor1D };
      },
      black: () => preprocessBatch(p, { count: 1, images: new Uint8Array(p.shape[0] * p.shape[1] * p.shape[2]), labels: new Int32Array(1) }, input),
    };
  }
  const opened = await openDataset(dataset);
  const split = opened.test ?? opened.train;
  const toInput = (pixels: tf.Tensor4D) => tf.tidy(() => {
    const adapted = adaptToInput(pixels, input);
    return preprocessAdapted(preprocessor, adapted);
  });
  return {
    dataset,
    count: split.count,
    classNames: opened.classNames,
    batch: async (indices) => {
      const e = await split.read(indices);
      return tf.tidy(() => ({ x: toInput(tf.tensor4d(Float32Array.from(e.images), [e.count, ...split.shape])), labels: tf.tensor1d(e.labels, 'int32') }));
    },
    black: () => tf.tidy(() => toInput(tf.zeros([1, ...split.shape]) as tf.Tensor4D)),
  };
}
