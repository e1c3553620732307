// The request/reply bookkeeping both transports share: ids, pending requests, subscriptions, cancels,
// and checking replies and events against the contract's schemas before anyone sees them.
import type { Method, Params, PlainMethod, Result, SubscriptionMethod } from '../../../src-main/contract/api';
import type { ErrorInfo } from '../../../src-main/contract/common';
import { checkEvent, checkResult } from '../../../src-main/contract/validate';
import type { ClientMessage, EngineNotice, ServerMessage } from '../../../src-main/contract/wire';
import { HostError, type SubscribeHandlers, type Subscription } from './host';

interface Pending {
  method: Method;
  resolve(result: unknown): void;
  reject(error: HostError): void;
  /** For subscriptions, once their first reply arrived. */
  onEvent?: (event: unknown) => void;
  onEnd?: (error?: ErrorInfo) => void;
  subscribed?: boolean;
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly send: (message: ClientMessage) => void,
    private readonly onNotice: (notice: EngineNotice) => void,
  ) {}

  call<M extends PlainMethod>(method: M, params: Params<M>, signal?: AbortSignal): Promise<Result<M>> {
    return new Promise<Result<M>>((resolve, reject) => {
      if (signal?.aborted) return reject(new HostError({ code: 'cancelled', message: 'cancelled' }));
      const id = this.nextId++;
      this.pending.set(id, { method, resolve: resolve as (r: unknown) => void, reject });
      signal?.addEventListener(
        'abort',
        () => {
          if (!this.pending.delete(id)) return;
          this.trySend({ kind: 'cancel', id });
          reject(new HostError({ code: 'cancelled', message: 'cancelled' }));
        },
        { once: true },
      );
      this.trySend({ kind: 'request', id, method, params }, id);
    });
  }

  subscribe<M extends SubscriptionMethod>(method: M, params: Params<M>, handlers: SubscribeHandlers<M>): Promise<Subscription<M>> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const close = () => {
        if (!this.pending.delete(id)) return;
        this.trySend({ kind: 'cancel', id });
      };
      this.pending.set(id, {
        method,
        resolve: (result) => resolve({ result: result as Result<M>, close }),
        reject,
        onEvent: handlers.onEvent as (e: unknown) => void,
        onEnd: handlers.onEnd,
      });
      this.trySend({ kind: 'request', id, method, params }, id);
    });
  }

  /** Every message from the engine side goes through here. */
  receive(message: ServerMessage): void {
    if (message.kind === 'notice') {
      this.onNotice(message.notice);
      return;
    }
    if (message.id === null) return;
    const p = this.pending.get(message.id);
    if (!p) return; // cancelled or already finished
    if (message.kind === 'reply') {
      if (!message.ok) {
        this.pending.delete(message.id);
        p.reject(new HostError(message.error));
        return;
      }
      const checked = checkResult(p.method, message.result);
      if (!checked.ok) {
        this.pending.delete(message.id);
        p.reject(new HostError(checked.error));
        return;
      }
      if (p.onEvent) p.subscribed = true;
      else this.pending.delete(message.id);
      p.resolve(checked.value);
    } else if (message.kind === 'event') {
      if (!p.onEvent || !p.subscribed) return;
      const checked = checkEvent(p.method as SubscriptionMethod, message.event);
      if (checked.ok) p.onEvent(checked.value);
      else console.warn(`ConvScope: dropped an event: ${checked.error.message}`);
    } else if (message.kind === 'end') {
      this.pending.delete(message.id);
      if (p.subscribed) p.onEnd?.(message.error);
      else p.reject(new HostError(message.error ?? { code: 'closed', message: `${p.method} ended before it started` }));
    }
  }

  /** Fails every request in flight and ends every subscription (the connection is gone). */
  failAll(error: ErrorInfo): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      if (p.subscribed) p.onEnd?.(error);
      else p.reject(new HostError(error));
    }
  }

  private trySend(message: ClientMessage, id?: number): void {
    try {
      this.send(message);
    } catch (e) {
      if (id === undefined) return;
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.reject(new HostError({ code: 'closed', message: e instanceof Error ? e.message : String(e) }));
    }
  }
}
