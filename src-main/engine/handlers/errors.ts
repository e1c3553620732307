// Errors the handlers raise themselves, in the contract's terms (the host turns any thrown error into
// ErrorInfo with the contract's toErrorInfo: these keep their code, engine ConvscopeErrors become
// 'user-error' with their own code as the reason).
import { ContractError } from '../../contract/errors';

export function notFound(message: string): ContractError {
  return new ContractError({ code: 'not-found', message });
}

export function userError(message: string, reason: string): ContractError {
  return new ContractError({ code: 'user-error', message, reason });
}

/** Rejects with an AbortError once `signal` aborts (reported as 'cancelled'). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error('the request was cancelled');
  err.name = 'AbortError';
  return err;
}
