// The Host: how the renderer reaches the engine. One interface over the contract's EngineApi (every
// request, subscriptions, engine notices) plus the Electron shell where there is one; websocket.ts and
// electron.ts make it, App picks one at start-up and nothing else knows which.
import type { ErrorCode, ErrorInfo, Reply } from '../../../src-main/contract/common';
import type { EngineApi } from '../../../src-main/contract/engine-api';
import type { EventOf, Method, Params, PlainMethod, Result, SubscriptionMethod } from '../../../src-main/contract/api';
import type { Subscription } from '../../../src-main/contract/client';
import type { ShellApi } from '../../../src-main/contract/shell';
import type { EngineNotice } from '../../../src-main/contract/wire';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SubscribeHandlers<M extends SubscriptionMethod> {
  onEvent(event: EventOf<M>): void;
  /** The engine ended the subscription (a run finished, the connection dropped), with an error if it failed. */
  onEnd?(error?: ErrorInfo): void;
}

export interface Host {
  /** Which transport this is ('web': WebSocket to `convscope serve`; 'electron': the preload bridge). */
  readonly transport: 'web' | 'electron';
  /** Native dialogs and menus (Electron only). */
  readonly shell: ShellApi | null;
  /** One request; resolves with its result or rejects with a HostError. */
  call<M extends PlainMethod>(method: M, params: Params<M>, options?: { signal?: AbortSignal }): Promise<Result<M>>;
  subscribe<M extends SubscriptionMethod>(method: M, params: Params<M>, handlers: SubscribeHandlers<M>): Promise<Subscription<Result<M>>>;
  /** Engine restarts and outages, as the host reports them. */
  onNotice(handler: (notice: EngineNotice) => void): () => void;
  onConnection(handler: (state: ConnectionState, detail?: string) => void): () => void;
}

/** A failed request, with the contract's error code and a message fit to show as is. */
export class HostError extends Error {
  readonly code: ErrorCode;
  readonly info: ErrorInfo;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'HostError';
    this.code = info.code;
    this.info = info;
  }
}

function unwrap<T>(reply: Reply<T>): T {
  if (!reply.ok) throw new HostError(reply.error);
  return reply.result;
}

const cancelled = (method: string) => new HostError({ code: 'cancelled', message: `${method} was cancelled` });

/**
 * A Host over an EngineApi. The API object has no per-call cancel, so an aborted call is dropped on
 * this side (its reply is ignored).
 */
export function hostFromApi(
  transport: Host['transport'],
  api: EngineApi,
  shell: ShellApi | null,
  onConnection: Host['onConnection'],
): Host {
  const plain = api as unknown as Record<string, (params: unknown) => Promise<Reply<unknown>>>;
  const subs = api as unknown as Record<string, (params: unknown, onEvent: (e: unknown) => void, onEnd?: (e?: ErrorInfo) => void) => Promise<Reply<Subscription<unknown>>>>;
  return {
    transport,
    shell,
    call(method, params, options) {
      const signal = options?.signal;
      if (signal?.aborted) return Promise.reject(cancelled(method));
      const reply = plain[method](params).then((r) => unwrap(r) as Result<typeof method>);
      if (!signal) return reply;
      return new Promise((resolve, reject) => {
        const onAbort = () => reject(cancelled(method));
        signal.addEventListener('abort', onAbort, { once: true });
        reply.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
    async subscribe(method, params, handlers) {
      const reply = await subs[method](params, handlers.onEvent as (e: unknown) => void, handlers.onEnd);
      return unwrap(reply) as Subscription<Result<typeof method>>;
    },
    onNotice: (handler) => api.onNotice(handler),
    onConnection,
  };
}

/** A message for people from anything a request may throw. */
export function describeError(error: unknown): string {
  if (error instanceof HostError) {
    switch (error.code) {
      case 'closed':
        return 'The connection to the engine was lost; it reconnects on its own, then try again.';
      case 'engine-restarted':
        return `The engine stopped unexpectedly and was restarted: ${error.message}`;
      case 'engine-unavailable':
        return `The engine cannot run: ${error.message}`;
      case 'forbidden':
        return `${error.message} (the web version only reads folders it was started with or made itself)`;
      case 'internal':
        return `Something went wrong inside the engine: ${error.message}`;
      default:
        return error.message;
    }
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export type { Method, Params, Result, EventOf, PlainMethod, SubscriptionMethod, Subscription };
