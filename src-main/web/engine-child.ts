// The web host's engine process: the real engine served over this process's IPC channel, one virtual
// port per browser connection (messages are {conn, packet} or {conn, close: true}).
import { compactForClone, type Packet, type PacketPort } from '../contract';
import { createEngine } from '../engine/handlers';
import { createEngineHost } from '../engine/host';

export interface ChildMessage {
  conn: number;
  packet?: Packet;
  close?: true;
}

const runsDir = process.env.CONVSCOPE_RUNS_DIR;
if (!runsDir || !process.send) throw new Error('engine-child: start it through the web host (CONVSCOPE_RUNS_DIR and an IPC channel)');

// The backend comes from CONVSCOPE_BACKEND (set by the web host's --backend); CONVSCOPE_OPEN_FOLDERS is a JSON
// list of the folders given with --open (their run folders are listed beside the runs folder's).
const engine = createEngine({ runsDir, openFolders: openFolders(process.env.CONVSCOPE_OPEN_FOLDERS) });
const host = createEngineHost(engine.handlers, { onInternalError: (method, err) => console.error(`engine: ${method} failed:`, err) });

interface VirtualPort {
  listeners: Set<(m: unknown) => void>;
  closeListeners: Set<() => void>;
}
const ports = new Map<number, VirtualPort>();

function open(conn: number): VirtualPort {
  const vp: VirtualPort = { listeners: new Set(), closeListeners: new Set() };
  const port: PacketPort = {
    postMessage: (packet) => process.send!({ conn, packet: compactForClone(packet) } satisfies ChildMessage),
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

// The parent closing the channel (it exited or stops us): stop live runs with a checkpoint, then go.
const shutdown = () => void engine.shutdown().finally(() => process.exit(0));
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);

function openFolders(json: string | undefined): string[] {
  const value: unknown = json ? JSON.parse(json) : [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error('engine-child: CONVSCOPE_OPEN_FOLDERS must be a JSON list of paths');
  return value;
}
