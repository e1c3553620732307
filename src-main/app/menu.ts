// The application menu: File (open image / model / run, recent, export), Edit, View, Window, Help.
import path from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import type { OpenKind, RecentItem } from '../contract/shell';

export interface MenuActions {
  open(kind: OpenKind): void;
  openRecent(item: RecentItem): void;
  exportView(): void;
}

const KIND_LABEL: Record<OpenKind, string> = { image: 'Image', model: 'Model', run: 'Run' };

export function menuTemplate(recent: readonly RecentItem[], actions: MenuActions, platform: NodeJS.Platform = process.platform): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? recent.map((item) => ({ label: `${KIND_LABEL[item.kind]}: ${path.basename(item.path)}`, toolTip: item.path, click: () => actions.openRecent(item) }))
    : [{ label: 'No recent files', enabled: false }];
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Image…', accelerator: 'CmdOrCtrl+O', click: () => actions.open('image') },
      { label: 'Open Model…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.open('model') },
      { label: 'Open Run…', accelerator: 'CmdOrCtrl+Alt+O', click: () => actions.open('run') },
      { label: 'Recent', submenu: recentItems },
      { type: 'separator' },
      { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportView() },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  return [
    ...(mac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    file,
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }, { role: 'toggleDevTools' }],
    },
    { role: 'windowMenu' },
  ];
}
