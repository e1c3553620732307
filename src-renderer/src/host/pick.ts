// Picks the Host at start-up: the Electron bridge when the preload put one on window, else the web host.
import { createElectronHost, hasElectronBridge } from './electron';
import type { Host } from './host';
import { createWebSocketHost } from './websocket';

export function pickHost(): Host {
  return hasElectronBridge() ? createElectronHost() : createWebSocketHost();
}
