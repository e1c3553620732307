// PacketPort adapters for Electron's message channels. MessagePortMain and the utility process's
// channel copy ArrayBuffers (their transfer lists take only ports), so packets are compacted first.
import type { MessagePortMain } from 'electron';
import { compactForClone, isPacket, type PacketPort } from '../contract';

/** One end of a MessageChannelMain (main process or utility process). */
export function portMainTransport(port: MessagePortMain): PacketPort {
  const transport: PacketPort = {
    postMessage: (packet) => port.postMessage(compactForClone(packet)),
    onMessage(listener) {
      const handler = (event: Electron.MessageEvent) => listener(event.data);
      port.on('message', handler);
      port.start();
      return () => port.off('message', handler);
    },
    onClose(listener) {
      port.on('close', listener);
      return () => port.off('close', listener);
    },
    close: () => port.close(),
  };
  return transport;
}

/** What a utility process and its parent send besides packets. */
export type ControlMessage = { control: 'ready' } | { control: 'connect' } | { control: 'shutdown' };

export function isControl(message: unknown, control: ControlMessage['control']): boolean {
  return typeof message === 'object' && message !== null && (message as { control?: unknown }).control === control;
}

interface ChannelLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * The packets on a utility process channel, control messages left out: `channel` is the UtilityProcess
 * (main side) or, in the utility process, an adapter of process.parentPort that delivers event.data.
 */
export function channelTransport(channel: ChannelLike): PacketPort {
  return {
    postMessage: (packet) => channel.postMessage(compactForClone(packet)),
    onMessage(listener) {
      const handler = (message: unknown) => {
        if (isPacket(message)) listener(message);
      };
      channel.on('message', handler);
      return () => channel.off('message', handler);
    },
  };
}
