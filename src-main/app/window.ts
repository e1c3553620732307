// The one main window: secure web preferences, navigation and pop-ups blocked, size and position
// remembered across runs.
import { BrowserWindow, screen } from 'electron';
import { guardNavigation, windowWebPreferences } from './security';
import { loadWindowState, saveWindowState, type WindowState } from './window-state';

export interface MainWindowOptions {
  preload: string;
  appOrigin: string;
  userData: string;
  log(line: string): void;
}

const SAVE_DELAY_MS = 500;

export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const state = loadWindowState(
    options.userData,
    screen.getAllDisplays().map((d) => d.workArea),
  );
  const win = new BrowserWindow({
    width: state.width,
    height: state.height,
    ...(state.x !== undefined && state.y !== undefined && { x: state.x, y: state.y }),
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'ConvScope',
    backgroundColor: '#16181d',
    webPreferences: windowWebPreferences(options.preload, options.appOrigin),
  });
  if (state.maximized) win.maximize();
  guardNavigation(win.webContents, (what, url) => options.log(`blocked ${what}${url ? ` to ${url}` : ''}`));
  win.once('ready-to-show', () => win.show());

  const current = (): WindowState => {
    const b = win.getNormalBounds();
    return { width: b.width, height: b.height, x: b.x, y: b.y, maximized: win.isMaximized() };
  };
  const save = () => {
    try {
      saveWindowState(options.userData, current());
    } catch (err) {
      options.log(`could not save the window state: ${(err as Error).message}`);
    }
  };
  let timer: ReturnType<typeof setTimeout> | null = null;
  const saveSoon = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  };
  win.on('resize', saveSoon);
  win.on('move', saveSoon);
  win.on('maximize', saveSoon);
  win.on('unmaximize', saveSoon);
  win.on('close', () => {
    if (timer) clearTimeout(timer);
    save();
  });
  return win;
}
