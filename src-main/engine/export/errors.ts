import { ConvscopeError } from '../errors';

/** A model or training setting the PyTorch export cannot reproduce, or an unusable output folder. */
export class ExportError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'export');
    this.name = 'ExportError';
  }
}
