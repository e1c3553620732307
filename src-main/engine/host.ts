// The engine's side of the contract: serves EngineHandlers over any number of ports (an Electron
// MessagePort, a child process's IPC channel, a WebSocket). Every request is checked against the
// contract before its handler runs; requests run concurrently; a handler's exception becomes an error
// reply and the host keeps serving. Subscription events go out after the subscription's reply, paced by
// the contract's throttle (training events: about 10 a second).
import {
  checkMethod,
  checkParams,
  encodePacket,
  errorMessage,
  isSubscription,
  readClientMessage,
  throttleFor,
  toErrorInfo,
  type EngineHandlers,
  type ErrorInfo,
  type Method,
  type PacketPort,
  type ServerMessage,
  type SubscriptionMethod,
  type SubscriptionSink,
} from '../contract';

export interface EngineHostOptions {
  /** A handler failed with an unexpected error (not a user error): for the engine's log, with the stack. */
  onInternalError?(method: string, err: unknown): void;
}

export interface EngineHost {
  /** Serves one more port until it closes or the returned function is called. */
  connect(port: PacketPort): () => void;
  /** Cancels everything in flight on every port and stops serving. */
  close(): void;
}

export function createEngineHost(handlers: EngineHandlers, options: EngineHostOptions = {}): EngineHost {
  const connections = new Set<Connection>();
  return {
    connect(port) {
      const connection = new Connection(port, handlers, options, () => connections.delete(connection));
      connections.add(connection);
      return () => connection.dispose();
    },
    close() {
      for (const c of [...connections]) c.dispose();
    },
  };
}

/** One port served by a new host. */
export function serveEngine(port: PacketPort, handlers: EngineHandlers, options: EngineHostOptions = {}): EngineHost {
  const host = createEngineHost(handlers, options);
  host.connect(port);
  return host;
}

interface Active {
  controller: AbortController;
}

type AnyHandler = (params: unknown, ctx: unknown) => unknown;

class Connection {
  private readonly active = new Map<number, Active>();
  private readonly offs: (() => void)[] = [];
  private disposed = false;

  constructor(
    private readonly port: PacketPort,
    private readonly handlers: EngineHandlers,
    private readonly options: EngineHostOptions,
    private readonly onDispose: () => void,
  ) {
    this.offs.push(port.onMessage((message) => this.receive(message)));
    if (port.onClose) this.offs.push(port.onClose(() => this.dispose()));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const off of this.offs) off();
    for (const { controller } of this.active.values()) controller.abort();
    this.active.clear();
    this.onDispose();
  }

  private receive(raw: unknown): void {
    if (this.disposed) return;
    const read = readClientMessage(raw);
    if (!read.ok) return this.send(errorMessage(read.id, read.error));
    const message = read.message;
    if (message.kind === 'cancel') return this.cancel(message.id);
    const { id } = message;
    if (this.active.has(id)) return this.send(errorMessage(id, { code: 'invalid-request', message: `request id ${id} is already in use` }));
    const method = checkMethod(message.method);
    if (!method.ok) return this.send(errorMessage(id, method.error));
    const params = checkParams(method.value, message.params);
    if (!params.ok) return this.send(errorMessage(id, params.error));
    const controller = new AbortController();
    this.active.set(id, { controller });
    if (isSubscription(method.value)) void this.subscribe(id, method.value, params.value, controller);
    else void this.call(id, method.value, params.value, controller);
  }

  private cancel(id: number): void {
    const entry = this.active.get(id);
    if (!entry) return;
    this.active.delete(id);
    entry.controller.abort();
  }

  private isCurrent(id: number, controller: AbortController): boolean {
    return this.active.get(id)?.controller === controller;
  }

  private handler(method: Method): AnyHandler {
    const handler = (this.handlers as unknown as Record<string, AnyHandler | undefined>)[method];
    if (typeof handler !== 'function') throw new Error(`the engine has no handler for ${method}`);
    return handler.bind(this.handlers);
  }

  private async call(id: number, method: Method, params: unknown, controller: AbortController): Promise<void> {
    let reply: ServerMessage;
    try {
      const result = await this.handler(method)(params, { signal: controller.signal });
      reply = { kind: 'reply', id, ok: true, result };
    } catch (err) {
      reply = errorMessage(id, this.errorInfo(method, err));
    }
    if (!this.isCurrent(id, controller)) return; // cancelled: the caller has stopped waiting
    this.active.delete(id);
    this.send(reply);
  }

  private async subscribe(id: number, method: SubscriptionMethod, params: unknown, controller: AbortController): Promise<void> {
    let replied = false;
    let ended = false;
    let endError: ErrorInfo | undefined;
    const early: unknown[] = [];
    const throttle = throttleFor(method, (event) => {
      if (this.isCurrent(id, controller)) this.send({ kind: 'event', id, event });
    });
    const finish = () => {
      throttle.close();
      if (!this.isCurrent(id, controller)) return;
      this.active.delete(id);
      this.send({ kind: 'end', id, ...(endError && { error: endError }) });
      controller.abort();
    };
    const sink: SubscriptionSink<unknown> = {
      signal: controller.signal,
      emit: (event) => {
        if (ended || controller.signal.aborted) return;
        if (replied) throttle.push(event as never);
        else early.push(event);
      },
      end: (error) => {
        if (ended) return;
        ended = true;
        endError = error;
        if (replied) finish();
      },
    };
    try {
      const result = await this.handler(method)(params, sink);
      if (!this.isCurrent(id, controller)) return;
      this.send({ kind: 'reply', id, ok: true, result });
      replied = true;
      for (const event of early.splice(0)) throttle.push(event as never);
      if (ended) finish();
    } catch (err) {
      ended = true;
      if (!this.isCurrent(id, controller)) return;
      this.active.delete(id);
      this.send(errorMessage(id, this.errorInfo(method, err)));
    }
  }

  private errorInfo(method: string, err: unknown): ErrorInfo {
    const info = toErrorInfo(err);
    if (info.code === 'internal') this.options.onInternalError?.(method, err);
    return info;
  }

  private send(message: ServerMessage): void {
    if (this.disposed) return;
    try {
      this.port.postMessage(encodePacket(message));
    } catch (err) {
      // A result the transport cannot carry (a class instance, a function ...): the caller still gets an answer.
      if (message.kind === 'reply' && message.ok) {
        this.options.onInternalError?.('send', err);
        this.send(errorMessage(message.id, { code: 'internal', message: `the reply could not be sent: ${(err as Error).message}` }));
      }
    }
  }
}

