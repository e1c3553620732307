// Folder images stored larger than the model's input (S x S) become input-size patches: the crop an
// Augmenter draws (random, mirrored, colour-shifted for training; the centre for evaluation), then the run's
// preprocessing. The preprocessor is fitted on the stored S x S images (the paper's mean image is 256 x 256),
// and each patch subtracts the mean image at its own (mirrored) place: a patch is exactly what cropping the
// preprocessed stored image would give.
import { cropInto, type Augmenter, type PixelImage } from '../data/augment';
import { DatasetError, pixelsPerImage, type Examples, type ImageShape } from '../data/dataset';
import type { Preprocessor } from '../data/preprocess';

export class PatchMaker {
  private readonly meanImage: PixelImage | null;
  private readonly meanPixel: Float32Array | null;

  constructor(
    readonly preprocessor: Preprocessor,
    readonly shape: ImageShape,
  ) {
    const [height, width, channels] = shape;
    if (preprocessor.shape.some((d, i) => d !== shape[i])) {
      throw new DatasetError(`the preprocessing was fitted on ${preprocessor.shape.join('x')} images, the stored images are ${shape.join('x')}`, 'bad-argument');
    }
    const mean = Float32Array.from(preprocessor.mean);
    this.meanImage = preprocessor.kind === 'mean-image' ? { data: mean, width, height, channels } : null;
    this.meanPixel = preprocessor.kind === 'mean-pixel' ? mean : null;
  }

  /** The batch's patches as float32 NHWC [count, size, size, channels], size = the augmenter's. */
  patches(examples: Examples, augmenter: Augmenter): Float32Array {
    const [height, width, channels] = this.shape;
    const { size } = augmenter.options;
    const inSize = pixelsPerImage(this.shape);
    const outSize = size * size * channels;
    const out = new Float32Array(examples.count * outSize);
    const meanPatch = this.meanImage ? new Float32Array(outSize) : null;
    const scale = this.preprocessor.scale;
    for (let i = 0; i < examples.count; i++) {
      const image = { data: examples.images.subarray(i * inSize, (i + 1) * inSize), width, height, channels };
      const { place, shift } = augmenter.draw(image);
      const at = i * outSize;
      cropInto(image, size, place, out, at, shift ?? undefined);
      if (meanPatch) {
        cropInto(this.meanImage!, size, place, meanPatch);
        for (let j = 0; j < outSize; j++) out[at + j] = (out[at + j] - meanPatch[j]) * scale;
      } else if (this.meanPixel) {
        for (let j = 0; j < outSize; j++) out[at + j] = (out[at + j] - this.meanPixel[j % channels]) * scale;
      } else {
        for (let j = 0; j < outSize; j++) out[at + j] *= scale;
      }
    }
    return out;
  }
}
