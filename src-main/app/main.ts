// Electron's main process, kept thin: one window, the menu, file dialogs, the engine in a utility
// process, and the paths the app is asked to open. Everything heavy happens in the engine.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type OpenDialogOptions } from 'electron';
import { SHELL_CHANNELS, type OpenKind, type RecentItem, type ShellCommand } from '../contract/shell';
import { registerAppScheme, serveRenderer } from './app-protocol';
import { EngineProcess } from './engine-process';
import { registerShellIpc } from './ipc';
import { menuTemplate } from './menu';
import { READ_EXTENSIONS } from '../engine/data/image-formats';
import { classifyPath, openablePaths } from './open-paths';
import { RecentFiles } from './recent';
import { APP_ORIGIN, denyPermissions, enforceCsp, guardNavigation, originOf } from './security';
import { createMainWindow } from './window';

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (line: string) => console.log(`convscope: ${line}`);
/** electron-vite's dev server, when running `electron-vite dev`. */
const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const appOrigin = devUrl ? originOf(devUrl) : APP_ORIGIN;

const DIALOGS: Record<OpenKind, OpenDialogOptions> = {
  image: { title: 'Open image', properties: ['openFile'], filters: [{ name: 'Images', extensions: READ_EXTENSIONS.map((e) => e.slice(1)) }] },
  model: { title: 'Open model', properties: ['openFile'], filters: [{ name: 'Models', extensions: ['json', 'onnx', 'caffemodel', 'prototxt'] }] },
  run: { title: 'Open training run', properties: ['openDirectory'] },
};

registerAppScheme(protocol);
app.on('web-contents-created', (_event, contents) => guardNavigation(contents, (what, url) => log(`blocked ${what} to ${url}`)));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let win: BrowserWindow | null = null;
  const pending: ShellCommand[] = [];
  const send = (command: ShellCommand) => {
    if (win && !win.webContents.isLoading()) win.webContents.send(SHELL_CHANNELS.command, command);
    else pending.push(command);
  };
  const openPaths = (items: { kind: OpenKind; path: string }[]) => {
    for (const item of items) send({ type: 'open', kind: item.kind, path: item.path });
  };

  app.on('second-instance', (_event, argv, cwd) => {
    if (win?.isMinimized()) win.restore();
    win?.focus();
    openPaths(openablePaths(argv.slice(1), cwd));
  });
  app.on('open-file', (event, file) => {
    event.preventDefault();
    const kind = classifyPath(file);
    if (kind) openPaths([{ kind, path: file }]);
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(async () => {
    const userData = app.getPath('userData');
    denyPermissions(session.defaultSession);
    enforceCsp(session.defaultSession);
    serveRenderer(protocol, path.join(here, '../renderer'));
    const recent = new RecentFiles(userData);
    // electron-builder puts resources/ beside app.asar; the engine (which inherits this) reads it there.
    if (app.isPackaged) process.env.CONVSCOPE_RESOURCES ??= path.join(process.resourcesPath, 'resources');

    const engine = new EngineProcess({
      entry: path.join(here, 'engine.js'),
      args: [`--runs-dir=${path.join(app.getPath('documents'), 'ConvScope', 'runs')}`],
      onRestart: (notice) => win && engine.connect(win.webContents, notice),
      log,
    });

    const remember = (item: RecentItem) => {
      recent.add(item);
      app.addRecentDocument(item.path);
      buildMenu();
    };
    const chooseAndOpen = async (kind: OpenKind) => {
      const result = win ? await dialog.showOpenDialog(win, DIALOGS[kind]) : await dialog.showOpenDialog(DIALOGS[kind]);
      const chosen = result.canceled ? null : (result.filePaths[0] ?? null);
      if (chosen) remember({ kind, path: chosen });
      return chosen;
    };
    const buildMenu = () =>
      Menu.setApplicationMenu(
        Menu.buildFromTemplate(
          menuTemplate(recent.list(), {
            open: (kind) => void chooseAndOpen(kind).then((p) => p && openPaths([{ kind, path: p }])),
            openRecent: (item) => openPaths([item]),
            exportView: () => send({ type: 'export' }),
          }),
        ),
      );
    buildMenu();

    registerShellIpc(ipcMain, {
      contents: () => win?.webContents ?? null,
      appOrigin,
      openDialog: chooseAndOpen,
      saveFile: async ({ suggestedName, data }) => {
        const options = { title: 'Export', defaultPath: path.join(app.getPath('documents'), path.basename(suggestedName)) };
        const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
        if (result.canceled || !result.filePath) return null;
        await writeFile(result.filePath, data);
        return result.filePath;
      },
      recent: () => recent.list(),
      addRecent: remember,
      connectEngine: (contents) => engine.connect(contents),
      log,
    });

    win = createMainWindow({ preload: path.join(here, '../preload/preload.cjs'), appOrigin, userData, log });
    win.on('closed', () => (win = null));
    win.webContents.on('did-finish-load', () => {
      for (const command of pending.splice(0)) win?.webContents.send(SHELL_CHANNELS.command, command);
    });
    openPaths(openablePaths(process.argv.slice(app.isPackaged ? 1 : 2), process.cwd()));

    let quitting = false;
    app.on('before-quit', (event) => {
      if (quitting) return;
      quitting = true;
      event.preventDefault();
      // Live runs checkpoint before the engine goes.
      void engine.stop().finally(() => app.quit());
    });

    engine.start().catch((err: Error) => log(`the engine did not start: ${err.message}`));
    await win.loadURL(devUrl ?? `${APP_ORIGIN}/index.html`);
  });
}
