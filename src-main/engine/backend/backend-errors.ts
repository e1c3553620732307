import { ConvscopeError } from '../errors';
import { BACKEND_KINDS, type BackendKind } from './types';

/** An explicitly requested backend cannot be used (ConvScope does not silently fall back). */
export class BackendUnavailableError extends ConvscopeError {
  constructor(
    readonly backend: BackendKind,
    readonly reason: string,
  ) {
    super(`The '${backend}' backend was requested but cannot be used: ${reason}`, 'backend-unavailable');
    this.name = 'BackendUnavailableError';
  }
}

export class InvalidBackendChoiceError extends ConvscopeError {
  constructor(value: string, source: string) {
    super(
      `${source} must be one of auto, ${BACKEND_KINDS.join(', ')}; got '${value}'`,
      'invalid-backend-choice',
    );
    this.name = 'InvalidBackendChoiceError';
  }
}

export class InvalidThreadsError extends ConvscopeError {
  constructor(message: string) {
    super(message, 'invalid-threads');
    this.name = 'InvalidThreadsError';
  }
}
