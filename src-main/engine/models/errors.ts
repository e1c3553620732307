import { ConvscopeError } from '../errors';

/** A model id that is not in the zoo. */
export class UnknownModelError extends ConvscopeError {
  constructor(id: string, known: readonly string[]) {
    super(`unknown model '${id}' (known models: ${known.join(', ')})`, 'unknown-model');
    this.name = 'UnknownModelError';
  }
}

/** A malformed `key=value`, an unknown or non-applicable option, or a bad option value. */
export class OverrideError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'bad-override');
    this.name = 'OverrideError';
  }
}

/** A spec that cannot be built: the layer it names cannot take the shape that reaches it. */
export class SpecShapeError extends ConvscopeError {
  constructor(
    message: string,
    readonly layer: string,
  ) {
    super(message, 'impossible-model');
    this.name = 'SpecShapeError';
  }
}

/** A model folder that cannot be read back (missing, malformed or truncated files). */
export class ModelFileError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'model-file');
    this.name = 'ModelFileError';
  }
}
