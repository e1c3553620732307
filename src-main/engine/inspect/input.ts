// How an image file becomes the model's input, the way the model's training data did: decoded to the
// stored preprocessor's image size (its dataset's), preprocessed with the stored statistics, centre-cropped
// when the stored size is larger than the model's input (the paper's test-time crop; the crop commutes
// with the per-pixel preprocessing), else resized / converted by the data module's adaptToInput.
import { tf } from '../tf';
import { decodeImage, type ImageInfo, type ImageInput } from '../data/image-decode';
import { adaptToInput, applyPreprocessor, describePreprocessor, type Preprocessor } from '../data/preprocess';
import { InspectModelError } from './errors';

export interface PreparedInput {
  /** What a person sees: the decoded image, cropped like the input when the input is a crop (HWC uint8). */
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: number;
  /** The model's input, [1, h, w, c]; the caller disposes it. */
  x: tf.Tensor4D;
  original: ImageInfo;
}

export interface InputPreparer {
  preprocessor: Preprocessor;
  /** For people and JSON output. */
  description: string;
  prepare(image: ImageInput, options?: { name?: string }): Promise<PreparedInput>;
}

/** For models trained elsewhere or not at all (zoo models, plain model.json files): pixels / 255 at the model's input size. */
export function defaultPreprocessor(input: readonly [number, number, number]): Preprocessor {
  return { version: 1, kind: 'scale', shape: [input[0], input[1], input[2]], mean: [], scale: 1 / 255, fittedOn: null };
}

export function inputPreparer(preprocessor: Preprocessor, modelInput: readonly [number, number, number]): InputPreparer {
  const [sh, sw, sc] = preprocessor.shape;
  const [h, w] = modelInput;
  if (sc !== 1 && sc !== 3) throw new InspectModelError(`the model's images have ${sc} channels; inspection reads grey (1) or RGB (3) images`);
  const crop = sh >= h && sw >= w && (sh > h || sw > w) ? { top: Math.floor((sh - h) / 2), left: Math.floor((sw - w) / 2) } : null;
  return {
    preprocessor,
    description: describePreprocessor(preprocessor) + (crop ? `, centre ${h}x${w} crop` : ''),
    async prepare(image, options = {}) {
      const decoded = await decodeImage(image, { channels: sc, width: sw, height: sh, fit: 'cover-center', name: options.name });
      const values = applyPreprocessor(preprocessor, decoded.data, 1);
      const x = tf.tidy(() => {
        let t = tf.tensor4d(values, [1, sh, sw, sc]);
        if (crop) t = tf.slice(t, [0, crop.top, crop.left, 0], [1, h, w, sc]);
        return adaptToInput(t, modelInput);
      });
      const pixels = crop ? cropPixels(decoded.data, sw, sc, crop, h, w) : decoded.data;
      return { pixels, width: crop ? w : sw, height: crop ? h : sh, channels: sc, x, original: decoded.original };
    },
  };
}

function cropPixels(data: Uint8Array, width: number, channels: number, at: { top: number; left: number }, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w * channels);
  for (let y = 0; y < h; y++) {
    const from = ((at.top + y) * width + at.left) * channels;
    out.set(data.subarray(from, from + w * channels), y * w * channels);
  }
  return out;
}
