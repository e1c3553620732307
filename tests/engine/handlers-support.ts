// Calling the engine's handlers the way the host does: params checked against the contract first, the
// result checked against it after, errors turned into the contract's ErrorInfo.
import { expect } from 'vitest';
import type { EngineHandlers, EventOf, Method, Params, PlainMethod, Result, SubscriptionMethod } from '../../src-main/contract/api';
import type { ErrorInfo } from '../../src-main/contract/common';
import { toErrorInfo } from '../../src-main/contract/errors';
import { checkEvent, checkParams, checkResult } from '../../src-main/contract/validate';

function checked<M extends Method>(method: M, params: Params<M>): Params<M> {
  const p = checkParams(method, params);
  if (!p.ok) throw new Error(`test bug: ${p.error.message}`);
  return p.value;
}

function expectValid<M extends Method>(method: M, result: unknown): Result<M> {
  const r = checkResult(method, result);
  if (!r.ok) throw new Error(`${method} returned a result outside the contract: ${r.error.message}`);
  return result as Result<M>;
}

export async function call<M extends PlainMethod>(handlers: EngineHandlers, method: M, params: Params<M>, signal = new AbortController().signal): Promise<Result<M>> {
  const handler = handlers[method] as (p: Params<M>, ctx: { signal: AbortSignal }) => Promise<Result<M>> | Result<M>;
  return expectValid(method, await handler(checked(method, params), { signal }));
}

/** The ErrorInfo the host would send for a request that must fail. */
export async function failure<M extends PlainMethod>(handlers: EngineHandlers, method: M, params: Params<M>): Promise<ErrorInfo> {
  const handler = handlers[method] as (p: Params<M>, ctx: { signal: AbortSignal }) => Promise<Result<M>> | Result<M>;
  try {
    await handler(checked(method, params), { signal: new AbortController().signal });
  } catch (err) {
    return toErrorInfo(err);
  }
  throw new Error(`${method} was expected to fail`);
}

export interface Subscribed<M extends SubscriptionMethod> {
  result: Result<M>;
  events: EventOf<M>[];
  /** Resolves when the engine ends the subscription (with its error, if any). */
  ended: Promise<ErrorInfo | undefined>;
  cancel(): void;
}

export async function subscribe<M extends SubscriptionMethod>(handlers: EngineHandlers, method: M, params: Params<M>): Promise<Subscribed<M>> {
  const controller = new AbortController();
  const events: EventOf<M>[] = [];
  let end!: (error: ErrorInfo | undefined) => void;
  const ended = new Promise<ErrorInfo | undefined>((resolve) => (end = resolve));
  const sink = {
    signal: controller.signal,
    emit(event: EventOf<M>) {
      const c = checkEvent(method, event);
      if (!c.ok) throw new Error(`${method} emitted an event outside the contract: ${c.error.message}`);
      events.push(event);
    },
    end: (error?: ErrorInfo) => end(error),
  };
  const handler = handlers[method] as unknown as (p: Params<M>, s: typeof sink) => Promise<Result<M>> | Result<M>;
  const result = expectValid(method, await handler(checked(method, params), sink));
  return { result, events, ended, cancel: () => controller.abort() };
}

export function expectCode(error: ErrorInfo, code: ErrorInfo['code'], reason?: string): void {
  expect(error.code, error.message).toBe(code);
  if (reason !== undefined) expect(error.reason, error.message).toBe(reason);
}
