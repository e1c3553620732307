// Inside the engine's utility process: serves the contract to main over the parent port (main's own
// calls: watching runs, resuming them) and to every window over the MessagePorts main hands over.
import type { MessagePortMain, ParentPort } from 'electron';
import type { EngineHandlers } from '../contract';
import { createEngineHost, type EngineHost, type EngineHostOptions } from '../engine/host';
import { channelTransport, isControl, portMainTransport } from './electron-ports';

export function serveInUtilityProcess(parentPort: ParentPort, handlers: EngineHandlers, options: EngineHostOptions & { onShutdown?(): void } = {}): EngineHost {
  const host = createEngineHost(handlers, options);
  const listeners = new Map<(message: unknown) => void, (event: Electron.MessageEvent) => void>();
  const parent = {
    postMessage: (message: unknown) => parentPort.postMessage(message),
    on: (_event: 'message', listener: (message: unknown) => void) => {
      const handler = (event: Electron.MessageEvent) => listener(event.data);
      listeners.set(listener, handler);
      parentPort.on('message', handler);
    },
    off: (_event: 'message', listener: (message: unknown) => void) => {
      const handler = listeners.get(listener);
      if (handler) parentPort.off('message', handler);
    },
  };
  host.connect(channelTransport(parent));
  parentPort.on('message', (event) => {
    if (isControl(event.data, 'connect') && event.ports.length === 1) host.connect(portMainTransport(event.ports[0] as MessagePortMain));
    else if (isControl(event.data, 'shutdown')) options.onShutdown?.();
  });
  parentPort.postMessage({ control: 'ready' });
  return host;
}
