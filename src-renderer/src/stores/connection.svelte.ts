// The one Host of this window, its connection state and the engine's backend.
import type { BackendInfo } from '../../../src-main/contract/system';
import { describeError, type Host } from '../host/host';
import { pickHost } from '../host/pick';

export const connection = $state<{
  state: 'connecting' | 'open' | 'reconnecting' | 'error';
  error: string | null;
  backend: { name: string; detail: string; info: BackendInfo } | null;
  /** The last engine notice (restart), shown until dismissed. */
  notice: string | null;
}>({ state: 'connecting', error: null, backend: null, notice: null });

let current: Host | null = null;
const waiting: ((h: Host) => void)[] = [];

/** The host, once App has picked one (views call this in their effects). */
export function host(): Promise<Host> {
  if (current) return Promise.resolve(current);
  return new Promise((resolve) => waiting.push(resolve));
}

const KIND_NAMES: Record<BackendInfo['chosen'], string> = {
  gpu: 'Native GPU (TensorFlow)',
  webgpu: 'WebGPU (Dawn)',
  node: 'Native CPU (TensorFlow)',
  wasm: 'WebAssembly',
  cpu: 'Plain JavaScript',
};

/** A short name for the sidebar and the engine's own one-line description as detail. */
export function backendSummary(info: BackendInfo): { name: string; detail: string } {
  return { name: KIND_NAMES[info.chosen] ?? info.chosen, detail: info.description };
}

async function loadBackend(h: Host): Promise<void> {
  try {
    const info = await h.call('backendInfo', {});
    connection.backend = { ...backendSummary(info), info };
  } catch (e) {
    connection.error = describeError(e);
  }
}

export function connect(): void {
  if (current) {
    void loadBackend(current);
    return;
  }
  try {
    const h = pickHost();
    current = h;
    h.onConnection((state, detail) => {
      connection.state = state === 'open' ? 'open' : state === 'closed' ? 'error' : state;
      connection.error = state === 'closed' ? (detail ?? 'the connection closed') : null;
      if (state === 'open') void loadBackend(h);
    });
    h.onNotice((n) => {
      connection.notice = n.type === 'engine-restarted' ? `The engine restarted (${n.reason}).` : `The engine is unavailable: ${n.reason}`;
    });
    for (const resolve of waiting.splice(0)) resolve(h);
  } catch (e) {
    connection.state = 'error';
    connection.error = describeError(e);
  }
}
