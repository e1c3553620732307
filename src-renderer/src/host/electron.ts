// The Host inside Electron: the preload's bridge (window.convscope) already speaks the contract
// (an EngineApi over the engine's MessagePort) and adds the shell's dialogs and menu commands.
import type { ConvscopeBridge } from '../../../src-main/contract/shell';
import { hostFromApi, type Host } from './host';

declare global {
  interface Window {
    convscope?: ConvscopeBridge;
  }
}

export function hasElectronBridge(): boolean {
  return typeof window !== 'undefined' && typeof window.convscope?.engine?.listModels === 'function';
}

export function createElectronHost(bridge: ConvscopeBridge = window.convscope!): Host {
  // The bridge is up as long as the window is; engine restarts arrive as notices.
  return hostFromApi('electron', bridge.engine, bridge.shell, (handler) => {
    handler('open');
    return () => {};
  });
}
