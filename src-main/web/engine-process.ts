// The engine child process of the web host: forked with the real engine, one virtual port per browser
// connection over IPC, and restarted when it dies (a crash does not take the server down).
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { EngineNotice, Packet } from '../contract';
import type { ChildMessage } from './engine-child';

const STOP_GRACE_MS = 180_000;

const CHILD = fileURLToPath(new URL('./engine-child.ts', import.meta.url));
/** tsx as this package has it: `--import tsx` alone would resolve it from the cwd, where it may not be. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** More deaths than this within a minute: the engine is reported unavailable instead of restarted again. */
const MAX_RESTARTS_PER_MINUTE = 3;

export interface EngineConnection {
  send(packet: Packet): void;
  close(): void;
}

interface ConnectionHandlers {
  onPacket(packet: Packet): void;
  /** The engine died under this connection's requests and was restarted (or could not be). */
  onEngineLost(notice: EngineNotice): void;
}

export interface EngineProcessOptions {
  runsDir: string;
  /** The web host's --open folders (the engine lists the run folders among them). */
  openFolders?: string[];
  backend?: string;
  /** Threads of the engine's wasm backend, as CONVSCOPE_THREADS (default: every core). */
  threads?: number;
  /** Called with each engine's stderr lines (default: this process's stderr). */
  log?: (line: string) => void;
}

export class EngineProcess {
  private child: ChildProcess | null = null;
  private readonly connections = new Map<number, ConnectionHandlers>();
  private nextConn = 1;
  private deaths: number[] = [];
  private stopping = false;
  private unavailable: string | null = null;

  constructor(private readonly options: EngineProcessOptions) {
    this.spawn();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Why the engine cannot serve (it died too often), or null while it can. */
  get unavailableReason(): string | null {
    return this.unavailable;
  }

  connect(handlers: ConnectionHandlers): EngineConnection {
    const conn = this.nextConn++;
    this.connections.set(conn, handlers);
    if (this.unavailable) handlers.onEngineLost({ type: 'engine-unavailable', reason: this.unavailable });
    let open = true;
    return {
      // Nothing after close: the child would take a packet for a closed connection as the start of a new one.
      send: (packet) => open && this.child?.connected && this.child.send({ conn, packet } satisfies ChildMessage),
      close: () => {
        if (!open) return;
        open = false;
        this.connections.delete(conn);
        if (this.child?.connected) this.child.send({ conn, close: true } satisfies ChildMessage);
      },
    };
  }

  /** Stops the engine (live runs write a checkpoint first; killed only after STOP_GRACE_MS). */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.disconnect();
    // A live run finishes its step and writes its stop checkpoint first: a full AlexNet's takes tens of seconds.
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private spawn(): void {
    const child = fork(CHILD, [], {
      execArgv: ['--import', TSX_LOADER],
      serialization: 'advanced',
      env: {
        ...process.env,
        CONVSCOPE_RUNS_DIR: this.options.runsDir,
        CONVSCOPE_OPEN_FOLDERS: JSON.stringify(this.options.openFolders ?? []),
        ...(this.options.backend ? { CONVSCOPE_BACKEND: this.options.backend } : {}),
        ...(this.options.threads ? { CONVSCOPE_THREADS: String(this.options.threads) } : {}),
      },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child = child;
    const log = this.options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(log));
    // A send to a child that is going away fails with an 'error' event: unhandled, it would end the host.
    child.on('error', (err) => log(`convscope serve: engine process: ${err.message}`));
    child.on('message', (raw) => {
      const msg = raw as ChildMessage;
      if (msg.packet) this.connections.get(msg.conn)?.onPacket(msg.packet);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child || this.stopping) return;
      this.child = null;
      const reason = `the engine process exited (${signal ?? `code ${code}`})`;
      const now = Date.now();
      this.deaths = [...this.deaths.filter((t) => now - t < 60_000), now];
      if (this.deaths.length > MAX_RESTARTS_PER_MINUTE) {
        this.unavailable = `${reason}, ${this.deaths.length} times within a minute; restart convscope serve`;
        for (const c of this.connections.values()) c.onEngineLost({ type: 'engine-unavailable', reason: this.unavailable });
        return;
      }
      log(`convscope serve: ${reason}; restarting it`);
      this.spawn();
      // Each connection's engine-side state (requests, subscriptions) died with it; runs resume from
      // their checkpoints when a client asks (resumeRun).
      for (const c of this.connections.values()) c.onEngineLost({ type: 'engine-restarted', reason, resumed: [], resumeErrors: [] });
    });
  }
}
