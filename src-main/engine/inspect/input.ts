// How a decoded image becomes the model's input: how it is fitted to the input size, then how its
// uint8 pixels become the numbers the model was trained on.
export interface InputPreparer {
  /** How decodeImage fits the image to the input size. */
  fit: 'cover-center' | 'stretch';
  /** HWC uint8 pixels of the input's size -> HWC float32 values. */
  toInput(pixels: Uint8Array, shape: readonly [number, number, number]): Float32Array;
  /** For people and JSON output, e.g. 'x / 255'. */
  description: string;
}

/** For models without stored preprocessing (zoo models, plain model.json files): pixels / 255. */
export const SCALE_TO_UNIT: InputPreparer = {
  fit: 'cover-center',
  toInput: (pixels) => Float32Array.from(pixels, (v) => v / 255),
  description: 'x / 255',
};
