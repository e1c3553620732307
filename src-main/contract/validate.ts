// Checking a message against the contract on the side that receives it.
import * as v from 'valibot';
import { eventSchema, isMethod, REQUESTS, type EventOf, type Method, type Params, type Result, type SubscriptionMethod } from './api';
import type { ErrorCode, ErrorInfo } from './common';
import { describeIssues, issuesOf } from './errors';

export type Checked<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

function check<S extends v.GenericSchema<unknown, unknown>>(schema: S, value: unknown, code: ErrorCode, what: string): Checked<v.InferOutput<S>> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return { ok: true, value: parsed.output };
  const issues = issuesOf(parsed.issues);
  return { ok: false, error: { code, message: describeIssues(what, issues), issues } };
}

export function checkMethod(method: unknown): Checked<Method> {
  if (isMethod(method)) return { ok: true, value: method };
  return { ok: false, error: { code: 'unknown-method', message: `unknown request '${String(method).slice(0, 100)}'` } };
}

export function checkParams<M extends Method>(method: M, params: unknown): Checked<Params<M>> {
  return check(REQUESTS[method].params, params, 'invalid-request', `${method} params`);
}

export function checkResult<M extends Method>(method: M, result: unknown): Checked<Result<M>> {
  return check(REQUESTS[method].result, result, 'invalid-reply', `${method} result`);
}

export function checkEvent<M extends SubscriptionMethod>(method: M, event: unknown): Checked<EventOf<M>> {
  return check(eventSchema(method), event, 'invalid-event', `${method} event`);
}
