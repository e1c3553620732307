// The web host's engine process: the real engine served over this process's IPC channel, one virtual
// port per browser connection (messages are {conn, packet} or {conn, close: true}).
import { compactForClone, type Packet, type PacketPort } from '../contract';
import { createEngine } from '../engine/handlers';
import { createEngineHost } from '../engine/host';
import { tuneEngineRuntime } from '../engine/runtime';

tuneEngineRuntime();

export interface ChildMessage {
  conn: number;
  packet?: Packet;
  close?: true;
}

const runsDir = process.env.CONVSCOPE_RUNS_DIR;
if (!runsDir || !process.send) throw new Error('engine-child: start it through the web host (CONVSCOPE_RUNS_DIR and an IPC channel)');

// The backend comes from CONVSCOPE_BACKEND, the wasm thread count from CONVSCOPE_THREADS (the web host's
// --backend and --threads); CONVSCOPE_OPEN_FOLDERS is a JSON list of the folders given with --open (their run
// folders are listed beside the runs folder's).
const engine = createEngine({ runsDir, openFolders: openFolders(process.env.CONVSCOPE_OPEN_FOLDERS) });
const host = createEngineHost(engine.handlers, { onInternalError: (method, err) => console.error(`engine: ${method} failed:`, err) });

/**
 * Sends to the parent while the channel is open. A message after it closed (a throttled event during a stop)
 * is dropped, and a failed send never becomes an 'error' event that would kill a stop half-way.
 */
function toParent(msg: ChildMessage): void {
  if (process.connected) process.send!(msg, undefined, undefined, () => undefined);
}

interface VirtualPort {
  listeners: Set<(m: unknown) => void>;
  closeListeners: Set<() => void>;
}
const ports = new Map<number, VirtualPort>();

function open(conn: number): VirtualPort {
  const vp: VirtualPort = { listeners: new Set(), closeListeners: new Set() };
  const port: PacketPort = {
    postMessage: (packet) => toParent({ conn, packet: compactForClone(packet) }),
    onMessage: (l) => (vp.listeners.add(l), () => vp.listeners.delete(l)),
    onClose: (l) => (vp.closeListeners.add(l), () => vp.closeListeners.delete(l)),
  };
  ports.set(conn, vp);
  host.connect(port);
  return vp;
}

process.on('message', (raw) => {
  const msg = raw as ChildMessage;
  if (msg.close) {
    const vp = ports.get(msg.conn);
    ports.delete(msg.conn);
    vp?.closeListeners.forEach((l) => l());
    return;
  }
  const vp = ports.get(msg.conn) ?? open(msg.conn);
  vp.listeners.forEach((l) => l(msg.packet));
});

// The parent closing the channel (it exited or stops us), SIGTERM, or Ctrl-C reaching the whole process
// group: stop live runs with a checkpoint and a final status, once, then go.
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  void engine
    .shutdown()
    .catch((err: unknown) => console.error('engine: stopping the runs failed:', err))
    .finally(() => process.exit(0));
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

function openFolders(json: string | undefined): string[] {
  const value: unknown = json ? JSON.parse(json) : [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error('engine-child: CONVSCOPE_OPEN_FOLDERS must be a JSON list of paths');
  return value;
}
