// A stand-in for the 'electron' module (vi.mock('electron', ...)): the parts ConvScope's main process and
// preload use, recording what they are asked to do. Message ports are real (Node's MessageChannel), so
// the engine host, the preload and the clients talk for real through them.
import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { vi } from 'vitest';

/** An Electron MessagePortMain over a Node MessagePort ('message' events carry {data, ports}). */
export class FakePortMain extends EventEmitter {
  private started = false;
  constructor(readonly raw: MessagePort) {
    super();
  }
  start(): void {
    if (this.started) return;
    this.started = true;
    this.raw.on('message', (data) => this.emit('message', { data, ports: [] }));
    this.raw.on('close', () => this.emit('close'));
  }
  postMessage(message: unknown): void {
    this.raw.postMessage(message);
  }
  close(): void {
    this.raw.close();
  }
}

export class FakeMessageChannelMain {
  readonly port1: FakePortMain;
  readonly port2: FakePortMain;
  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port1 = new FakePortMain(port1);
    this.port2 = new FakePortMain(port2);
    fake.channels.push(this);
  }
}

export class FakeWebContents extends EventEmitter {
  mainFrame: { url: string } = { url: 'app://convscope/index.html' };
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  readonly posted: { channel: string; message: unknown; ports: FakePortMain[] }[] = [];
  loading = false;
  destroyed = false;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  postMessage(channel: string, message: unknown, ports: FakePortMain[] = []): void {
    this.posted.push({ channel, message, ports });
  }
  isLoading(): boolean {
    return this.loading;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  readonly webContents = new FakeWebContents();
  bounds: { x: number; y: number; width: number; height: number };
  maximized = false;
  loadedUrl: string | null = null;
  focused = false;
  constructor(readonly options: Record<string, unknown> & { width: number; height: number; x?: number; y?: number; webPreferences: Record<string, unknown> }) {
    super();
    this.bounds = { x: options.x ?? 100, y: options.y ?? 100, width: options.width, height: options.height };
    fake.windows.push(this);
  }
  maximize(): void {
    this.maximized = true;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  getNormalBounds() {
    return { ...this.bounds };
  }
  show(): void {}
  focus(): void {
    this.focused = true;
  }
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
  }
}

/** The utility process as main sees it; `childPort` is its process.parentPort inside. */
export class FakeUtilityProcess extends EventEmitter {
  readonly childPort = new EventEmitter() as EventEmitter & { postMessage(message: unknown): void };
  killed = false;
  constructor(
    readonly entry: string,
    readonly args: string[],
  ) {
    super();
    this.childPort.postMessage = (message: unknown) => setImmediate(() => !this.killed && this.emit('message', message));
  }
  postMessage(message: unknown, ports: FakePortMain[] = []): void {
    setImmediate(() => !this.killed && this.childPort.emit('message', { data: message, ports }));
  }
  /** The process dies (a crash, or kill()). */
  kill(code = 1): boolean {
    if (this.killed) return false;
    this.killed = true;
    this.childPort.removeAllListeners();
    setImmediate(() => this.emit('exit', code));
    return true;
  }
}

// One state for every copy of this module: vi.resetModules() gives the code under test a fresh import of
// it, and the test must see what that copy records.
function createMock() {
  const fake = {
    windows: [] as FakeBrowserWindow[],
    channels: [] as FakeMessageChannelMain[],
    children: [] as FakeUtilityProcess[],
    /** What a forked engine does: set by the test (e.g. serve lab handlers on child.childPort). */
    onFork: (_child: FakeUtilityProcess) => {},
    lock: true,
    userData: path.join(os.tmpdir(), 'convscope-electron-mock'),
    ipcHandlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
    ipcListeners: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
    exposed: new Map<string, unknown>(),
    headersListener: null as null | ((details: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void),
    permissionRequest: null as null | ((contents: unknown, permission: string, cb: (granted: boolean) => void) => void),
    permissionCheck: null as null | (() => boolean),
    menu: null as null | { template: unknown[] },
    protocolHandlers: new Map<string, (request: { url: string }) => Promise<Response>>(),
    reset() {
      this.windows = [];
      this.channels = [];
      this.children = [];
      this.onFork = () => {};
      this.lock = true;
      this.ipcHandlers.clear();
      this.ipcListeners.clear();
      this.exposed.clear();
      this.headersListener = null;
      this.permissionRequest = null;
      this.permissionCheck = null;
      this.menu = null;
      this.protocolHandlers.clear();
      app.removeAllListeners();
      ipcRenderer.removeAllListeners();
      vi.clearAllMocks();
    },
  };

  let resolveReady: () => void = () => {};
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    requestSingleInstanceLock: vi.fn(() => fake.lock),
    whenReady: vi.fn(() => new Promise<void>((r) => (resolveReady = r))),
    getPath: vi.fn((name: string) => path.join(fake.userData, name)),
    quit: vi.fn(),
    addRecentDocument: vi.fn(),
  });
  const readyNow = () => resolveReady();

  const ipcMain = {
    handle: vi.fn((channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) => fake.ipcHandlers.set(channel, handler)),
    on: vi.fn((channel: string, listener: (event: unknown, ...args: unknown[]) => unknown) => fake.ipcListeners.set(channel, listener)),
  };

  const ipcRenderer = Object.assign(new EventEmitter(), {
    send: vi.fn(),
    invoke: vi.fn(async (_channel: string, _payload?: unknown): Promise<unknown> => undefined),
  });

  const electronModule = () => ({
    app,
    BrowserWindow: FakeBrowserWindow,
    MessageChannelMain: FakeMessageChannelMain,
    utilityProcess: {
      fork: vi.fn((entry: string, args: string[]) => {
        const child = new FakeUtilityProcess(entry, args);
        fake.children.push(child);
        fake.onFork(child);
        return child;
      }),
    },
    ipcMain,
    ipcRenderer,
    contextBridge: { exposeInMainWorld: vi.fn((key: string, api: unknown) => fake.exposed.set(key, api)) },
    webUtils: { getPathForFile: vi.fn((file: { path?: string }) => file.path ?? '') },
    protocol: {
      registerSchemesAsPrivileged: vi.fn(),
      handle: vi.fn((scheme: string, handler: (request: { url: string }) => Promise<Response>) => fake.protocolHandlers.set(scheme, handler)),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn((h: typeof fake.permissionRequest) => (fake.permissionRequest = h)),
        setPermissionCheckHandler: vi.fn((h: typeof fake.permissionCheck) => (fake.permissionCheck = h)),
        webRequest: { onHeadersReceived: vi.fn((l: typeof fake.headersListener) => (fake.headersListener = l)) },
      },
    },
    Menu: {
      buildFromTemplate: vi.fn((template: unknown[]) => ({ template })),
      setApplicationMenu: vi.fn((menu: { template: unknown[] }) => (fake.menu = menu)),
    },
    dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn() },
    screen: { getAllDisplays: vi.fn(() => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }]) },
  });
  return { fake, app, readyNow, ipcMain, ipcRenderer, electronModule };
}

type Mock = ReturnType<typeof createMock>;
const holder = globalThis as typeof globalThis & { __convscopeElectronMock?: Mock };
const mock: Mock = (holder.__convscopeElectronMock ??= createMock());
export const { fake, app, readyNow, ipcMain, ipcRenderer, electronModule } = mock;

/** An IPC event as main receives it from `contents`' frame at `url`. */
export function ipcEvent(contents: FakeWebContents, frame: { url: string } | null = contents.mainFrame) {
  return { sender: contents, senderFrame: frame, ports: [] };
}

/** Navigation-style events with a preventDefault that records. */
export function navigationEvent(url: string) {
  return { url, prevented: false, preventDefault() {
    this.prevented = true;
  } };
}
