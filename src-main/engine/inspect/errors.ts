import { ConvscopeError } from '../errors';

/** A model that inspection cannot work with (several inputs, no conv layer for Grad-CAM, ...). */
export class InspectModelError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'inspect-model');
    this.name = 'InspectModelError';
  }
}

/** A layer name that the model does not have, or a layer that cannot serve the request. */
export class LayerChoiceError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'bad-layer');
    this.name = 'LayerChoiceError';
  }
}

/** A model reference (zoo id, run folder, model.json path) that names nothing loadable. */
export class ModelRefError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'bad-model-ref');
    this.name = 'ModelRefError';
  }
}

/** A class index outside the model's outputs. */
export class ClassChoiceError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'bad-class');
    this.name = 'ClassChoiceError';
  }
}
