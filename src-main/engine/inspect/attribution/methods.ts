// One entry point for every attribution method: its map at the input's resolution.
import type { tf } from '../../tf';
import { gradCam, saliency } from '../gradients';
import { gradCamPlusPlus } from './gradcam-plus-plus';
import { integratedGradients } from './integrated-gradients';
import { scoreCam } from './score-cam';
import { smoothGrad } from './smooth-grad';
import type { Attribution, AttributionMethod, AttributionOptions } from './target';

export interface AttributeOptions extends AttributionOptions {
  /** Integrated Gradients' baseline (default: zeros in the model's input space). */
  baseline?: tf.Tensor4D;
}

export async function attribute(method: AttributionMethod, model: tf.LayersModel, x: tf.Tensor4D, options: AttributeOptions = {}): Promise<Attribution> {
  switch (method) {
    case 'saliency': {
      const r = await saliency(model, x, { classIndex: options.classIndex });
      return { method, classIndex: r.classIndex, score: r.score, width: r.width, height: r.height, values: r.values };
    }
    case 'gradcam': {
      const r = await gradCam(model, x, { classIndex: options.classIndex, layer: options.layer });
      return { method, classIndex: r.classIndex, score: r.score, layer: r.layer, coarse: { width: r.width, height: r.height, values: r.values }, ...r.upsampled };
    }
    case 'gradcam++':
      return gradCamPlusPlus(model, x, options);
    case 'scorecam':
      return scoreCam(model, x, options);
    case 'smoothgrad':
      return smoothGrad(model, x, options);
    case 'integrated-gradients':
      return integratedGradients(model, x, options);
  }
}
