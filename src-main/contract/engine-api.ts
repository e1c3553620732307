// The contract as an object of plain functions, one per request: what the Electron preload exposes to
// the page and what the renderer's web host builds over a WebSocket, so the UI sees one shape.
import { METHODS, isSubscription, type EventOf, type Params, type PlainMethod, type Result, type SubscriptionMethod } from './api';
import type { ErrorInfo, Reply } from './common';
import type { EngineClient, Subscription } from './client';
import type { EngineNotice } from './wire';

export type EngineApi = {
  [M in PlainMethod]: (params: Params<M>) => Promise<Reply<Result<M>>>;
} & {
  [M in SubscriptionMethod]: (
    params: Params<M>,
    onEvent: (event: EventOf<M>) => void,
    onEnd?: (error?: ErrorInfo) => void,
  ) => Promise<Reply<Subscription<Result<M>>>>;
} & {
  /** Engine restarts and outages, told by the host. Returns a function that stops listening. */
  onNotice(listener: (notice: EngineNotice) => void): () => void;
};

export function createEngineApi(client: EngineClient): EngineApi {
  const api: Record<string, unknown> = {
    onNotice: (listener: (notice: EngineNotice) => void) => client.onNotice(listener),
  };
  for (const method of METHODS) {
    api[method] = isSubscription(method)
      ? (params: unknown, onEvent: (event: unknown) => void, onEnd?: (error?: ErrorInfo) => void) =>
          client.subscribe(method, params as never, {
            onEvent,
            onEnd,
            onInvalidEvent: (error) => console.warn(`convscope: dropped a ${method} event: ${error.message}`),
          })
      : (params: unknown) => client.call(method as PlainMethod, params as never);
  }
  return api as EngineApi;
}
