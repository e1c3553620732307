import { ConvscopeError } from '../errors';

/** A file that cannot be imported: not a model, truncated, inconsistent, or a prototxt that does not fit the weights. */
export class ImportFileError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'import-file');
    this.name = 'ImportFileError';
  }
}

/** A well-formed model that uses operations (or settings of them) this importer cannot turn into layers. */
export class UnsupportedModelError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'import-unsupported');
    this.name = 'UnsupportedModelError';
  }
}

/** Import options that do not fit the model (a preprocessing for other channels, a bad mean or std). */
export class ImportOptionsError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'invalid-input');
    this.name = 'ImportOptionsError';
  }
}
