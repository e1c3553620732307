// The Host inside Electron: the preload's bridge (window.convscope) carries the contract's packets to
// and from the engine process; the same request bookkeeping as the web host runs on top.
import * as v from 'valibot';
import { decodePacket, encodePacket, type Packet } from '../../../src-main/contract/envelope';
import { ServerMessageSchema, type EngineNotice } from '../../../src-main/contract/wire';
import { RpcClient } from './client';
import type { ConnectionState, Host } from './host';

/** What the preload exposes on window.convscope. */
export interface ConvscopeBridge {
  /** Sends one client message (an encoded packet) to the engine. */
  send(packet: Packet): void;
  /** Every packet from the engine side (replies, events, ends, notices); returns an unsubscribe. */
  onPacket(listener: (packet: Packet) => void): () => void;
}

declare global {
  interface Window {
    convscope?: ConvscopeBridge;
  }
}

export function hasElectronBridge(): boolean {
  return typeof window !== 'undefined' && typeof window.convscope?.send === 'function';
}

export function createElectronHost(bridge: ConvscopeBridge = window.convscope!): Host {
  const noticeHandlers = new Set<(n: EngineNotice) => void>();
  const client = new RpcClient(
    (message) => bridge.send(encodePacket(message)),
    (notice) => {
      for (const h of noticeHandlers) h(notice);
    },
  );
  bridge.onPacket((packet) => {
    let message: unknown;
    try {
      message = decodePacket(packet);
    } catch (err) {
      console.warn('ConvScope: dropped an unreadable message from the engine', err);
      return;
    }
    const checked = v.safeParse(ServerMessageSchema, message);
    if (checked.success) client.receive(checked.output);
    else console.warn('ConvScope: dropped a message that does not match the contract', checked.issues);
  });
  return {
    transport: 'electron',
    call: (method, params, options) => client.call(method, params, options?.signal),
    subscribe: (method, params, handlers) => client.subscribe(method, params, handlers),
    onNotice(handler) {
      noticeHandlers.add(handler);
      return () => noticeHandlers.delete(handler);
    },
    onConnection(handler: (state: ConnectionState, detail?: string) => void) {
      // The bridge is up as long as the window is: the engine's restarts arrive as notices.
      handler('open');
      return () => {};
    },
  };
}
