// How an image file becomes the model's input the way its training data did (train/open-data.ts): decoded
// to the stored preprocessor's image size (its dataset's), preprocessed with the stored statistics, then
// resized / converted to the model's input by the data module's adaptToInput, or, for folder runs whose
// images were stored larger than the input (augmented ones), centre-cropped as their evaluation was.
import { tf } from '../tf';
import { decodeImage, type ImageInfo, type ImageInput } from '../data/image-decode';
import { adaptToInput, applyPreprocessor, describePreprocessor, type Preprocessor } from '../data/preprocess';
import { InspectModelError } from './errors';

export interface PreparedInput {
  /** What a person sees: the decoded image before preprocessing (HWC uint8). */
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

/** How the stored-size image becomes the input size: resized, or its centre crop (patches.ts' evaluation crop). */
export type InputFit = 'resize' | 'center-crop';

export function inputPreparer(preprocessor: Preprocessor, modelInput: readonly [number, number, number], fit: InputFit = 'resize'): InputPreparer {
  const [sh, sw, sc] = preprocessor.shape;
  const [ih, iw] = modelInput;
  if (fit === 'center-crop' && (ih > sh || iw > sw)) throw new InspectModelError(`a ${ih}x${iw} input cannot be cropped from the run's ${sh}x${sw} images`);
  if (sc !== 1 && sc !== 3) throw new InspectModelError(`the model's images have ${sc} channels; inspection reads grey (1) or RGB (3) images`);
  return {
    preprocessor,
    description: describePreprocessor(preprocessor),
    async prepare(image, options = {}) {
      const decoded = await decodeImage(image, { channels: sc, width: sw, height: sh, fit: 'cover-center', name: options.name });
      const values = applyPreprocessor(preprocessor, decoded.data, 1);
      const x = tf.tidy(() => {
        const full = tf.tensor4d(values, [1, sh, sw, sc]);
        const top = Math.floor((sh - ih) / 2);
        const left = Math.floor((sw - iw) / 2);
        return adaptToInput(fit === 'center-crop' ? tf.slice(full, [0, top, left, 0], [1, ih, iw, sc]) : full, modelInput);
      });
      return { pixels: decoded.data, width: sw, height: sh, channels: sc, x, original: decoded.original };
    },
  };
}
