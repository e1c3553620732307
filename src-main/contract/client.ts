// The calling side of the contract over any PacketPort: typed requests and subscriptions whose params
// are checked before sending and whose replies and events are checked on arrival. Nothing here throws
// at the caller: every outcome is a Reply.
import * as v from 'valibot';
import { isSubscription, REQUESTS, type EventOf, type Method, type Params, type PlainMethod, type Result, type SubscriptionMethod } from './api';
import type { ErrorCode, ErrorInfo, Reply } from './common';
import { decodePacket, encodePacket, isPacket, type Packet } from './envelope';
import { toErrorInfo } from './errors';
import type { PacketPort } from './port';
import { checkEvent, checkParams, checkResult } from './validate';
import { ServerMessageSchema, type EngineNotice, type ServerMessage } from './wire';

export interface Subscription<R> {
  result: R;
  /** Stops the events (the engine side is told). */
  close(): void;
}

export interface SubscriptionHandlers<E> {
  onEvent(event: E): void;
  /** The subscription ended from the engine's side (finished, or failed: error). */
  onEnd?(error?: ErrorInfo): void;
  /** An event that did not match the contract (it is dropped). */
  onInvalidEvent?(error: ErrorInfo): void;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** How long to wait for the reply (a subscription: for its first reply). Default: the client's, else the request's own (REQUESTS[m].timeoutMs). */
  timeoutMs?: number;
}

export interface ClientOptions {
  /** Every request fails with 'timeout' after this without a reply (default: each request's own, REQUESTS[m].timeoutMs). */
  timeoutMs?: number;
  /** Messages that could not be matched to a request (logged by the owner, if it likes). */
  onProtocolError?(error: ErrorInfo): void;
}

interface Pending {
  method: Method;
  settle(reply: Reply<unknown>): void;
  handlers?: SubscriptionHandlers<unknown>;
  cleanup(): void;
}

interface LiveSubscription {
  method: SubscriptionMethod;
  handlers: SubscriptionHandlers<unknown>;
}

export class EngineClient {
  private port: PacketPort | null = null;
  private detach: (() => void)[] = [];
  private queued: Packet[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<number, LiveSubscription>();
  private readonly noticeListeners = new Set<(notice: EngineNotice) => void>();
  private closed = false;

  constructor(
    port?: PacketPort,
    private readonly options: ClientOptions = {},
  ) {
    if (port) this.attach(port);
  }

  /**
   * Talks through `port` from now on. If another port was attached (the engine was restarted), what was in
   * flight on it fails with `reason` and its subscriptions end with that error.
   */
  attach(port: PacketPort, reason: ErrorCode = 'engine-restarted'): void {
    if (this.closed) throw new Error('EngineClient is closed');
    if (this.port) this.failAll({ code: reason, message: reason === 'engine-restarted' ? 'the engine was restarted' : 'the connection was replaced' });
    for (const off of this.detach) off();
    this.port = port;
    this.detach = [port.onMessage((message) => this.receive(message))];
    if (port.onClose) this.detach.push(port.onClose(() => this.portClosed(port)));
    for (const packet of this.queued.splice(0)) port.postMessage(packet);
  }

  call<M extends PlainMethod>(method: M, params: Params<M>, options: CallOptions = {}): Promise<Reply<Result<M>>> {
    return this.start(method, params, options, undefined) as Promise<Reply<Result<M>>>;
  }

  subscribe<M extends SubscriptionMethod>(
    method: M,
    params: Params<M>,
    handlers: SubscriptionHandlers<EventOf<M>>,
    options: CallOptions = {},
  ): Promise<Reply<Subscription<Result<M>>>> {
    return this.start(method, params, options, handlers as SubscriptionHandlers<unknown>) as Promise<Reply<Subscription<Result<M>>>>;
  }

  onNotice(listener: (notice: EngineNotice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /** Hands listeners a notice that came another way (e.g. from Electron's main process with a new port). */
  notify(notice: EngineNotice): void {
    for (const listener of [...this.noticeListeners]) listener(notice);
  }

  /** Fails everything in flight with 'closed' and closes the port. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll({ code: 'closed', message: 'the client was closed' });
    for (const off of this.detach) off();
    this.port?.close?.();
    this.port = null;
  }

  private start(method: Method, params: unknown, options: CallOptions, handlers: SubscriptionHandlers<unknown> | undefined): Promise<Reply<unknown>> {
    if (this.closed) return Promise.resolve({ ok: false, error: { code: 'closed', message: 'the client was closed' } });
    if (isSubscription(method) !== (handlers !== undefined)) {
      return Promise.resolve({ ok: false, error: { code: 'invalid-request', message: `${method} is ${handlers ? 'not ' : ''}a subscription` } });
    }
    const checked = checkParams(method, params);
    if (!checked.ok) return Promise.resolve(checked);
    const id = this.nextId++;
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => this.giveUp(id, { code: 'cancelled', message: `${method} was cancelled` });
      const entry: Pending = {
        method,
        handlers,
        settle: (reply) => {
          entry.cleanup();
          resolve(reply);
        },
        cleanup: () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      if (options.signal?.aborted) return resolve({ ok: false, error: { code: 'cancelled', message: `${method} was cancelled` } });
      this.pending.set(id, entry);
      options.signal?.addEventListener('abort', onAbort);
      const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? REQUESTS[method].timeoutMs;
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => this.giveUp(id, { code: 'timeout', message: `${method} got no reply within ${timeoutMs} ms` }), timeoutMs);
      try {
        this.send(encodePacket({ kind: 'request', id, method, params: checked.value }));
      } catch (err) {
        this.pending.delete(id);
        entry.settle({ ok: false, error: { code: 'invalid-request', message: (err as Error).message } });
      }
    });
  }

  private send(packet: Packet): void {
    if (this.port) this.port.postMessage(packet);
    else this.queued.push(packet);
  }

  /** The caller stops waiting: the engine side is told to cancel. */
  private giveUp(id: number, error: ErrorInfo): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    this.sendCancel(id);
    entry.settle({ ok: false, error });
  }

  private sendCancel(id: number): void {
    try {
      this.send(encodePacket({ kind: 'cancel', id }));
    } catch {
      // The port is gone; nothing to cancel.
    }
  }

  private receive(raw: unknown): void {
    let message: ServerMessage;
    try {
      if (!isPacket(raw)) throw new Error('not a packet');
      const parsed = v.safeParse(ServerMessageSchema, decodePacket(raw));
      if (!parsed.success) throw new Error(`malformed message: ${parsed.issues[0].message}`);
      message = parsed.output;
    } catch (err) {
      this.options.onProtocolError?.({ code: 'invalid-reply', message: (err as Error).message });
      return;
    }
    switch (message.kind) {
      case 'reply':
        return message.ok ? this.replied(message.id, message.result) : this.failed(message.id, message.error);
      case 'event':
        return this.event(message.id, message.event);
      case 'end': {
        const sub = this.subscriptions.get(message.id);
        this.subscriptions.delete(message.id);
        sub?.handlers.onEnd?.(message.error);
        return;
      }
      case 'notice':
        this.notify(message.notice);
    }
  }

  private replied(id: number, result: unknown): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    const checked = checkResult(entry.method, result);
    if (!checked.ok) {
      if (entry.handlers) this.sendCancel(id);
      return entry.settle(checked);
    }
    if (!entry.handlers) return entry.settle({ ok: true, result: checked.value });
    this.subscriptions.set(id, { method: entry.method as SubscriptionMethod, handlers: entry.handlers });
    const close = () => {
      if (this.subscriptions.delete(id)) this.sendCancel(id);
    };
    entry.settle({ ok: true, result: { result: checked.value, close } });
  }

  private failed(id: number | null, error: ErrorInfo): void {
    if (id === null) return this.options.onProtocolError?.(error);
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    entry.settle({ ok: false, error });
  }

  private event(id: number, event: unknown): void {
    const sub = this.subscriptions.get(id);
    if (!sub) return;
    const checked = checkEvent(sub.method, event);
    if (!checked.ok) return sub.handlers.onInvalidEvent?.(checked.error);
    try {
      sub.handlers.onEvent(checked.value);
    } catch (err) {
      this.options.onProtocolError?.(toErrorInfo(err));
    }
  }

  private portClosed(port: PacketPort): void {
    if (port !== this.port) return;
    this.failAll({ code: 'closed', message: 'the connection to the engine closed' });
  }

  private failAll(error: ErrorInfo): void {
    const pending = [...this.pending.values()];
    const subs = [...this.subscriptions.values()];
    this.pending.clear();
    this.subscriptions.clear();
    for (const entry of pending) entry.settle({ ok: false, error });
    for (const sub of subs) sub.handlers.onEnd?.(error);
  }
}
