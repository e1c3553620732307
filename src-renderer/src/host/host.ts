// The Host: how the renderer reaches the engine. One interface (every request of the contract, plus
// subscriptions and engine notices); websocket.ts and electron.ts implement it, App picks one at start.
import type { ErrorInfo, ErrorCode } from '../../../src-main/contract/common';
import type { EventOf, Method, Params, PlainMethod, Result, SubscriptionMethod } from '../../../src-main/contract/api';
import type { EngineNotice } from '../../../src-main/contract/wire';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Subscription<M extends SubscriptionMethod> {
  /** Where things stood when the subscription started. */
  result: Result<M>;
  /** Stops the events (idempotent). */
  close(): void;
}

export interface SubscribeHandlers<M extends SubscriptionMethod> {
  onEvent(event: EventOf<M>): void;
  /** The engine ended the subscription (a run finished, the connection dropped), with an error if it failed. */
  onEnd?(error?: ErrorInfo): void;
}

export interface Host {
  /** Which transport this is ('web': WebSocket to `convscope serve`; 'electron': the preload bridge). */
  readonly transport: 'web' | 'electron';
  /** One request; resolves with its result or rejects with a HostError. */
  call<M extends PlainMethod>(method: M, params: Params<M>, options?: { signal?: AbortSignal }): Promise<Result<M>>;
  subscribe<M extends SubscriptionMethod>(method: M, params: Params<M>, handlers: SubscribeHandlers<M>): Promise<Subscription<M>>;
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
      case 'internal':
        return `Something went wrong inside the engine: ${error.message}`;
      default:
        return error.message;
    }
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export type { Method, Params, Result, EventOf, PlainMethod, SubscriptionMethod };
