// Main's IPC endpoints for the preload: every message must come from the main frame of our window
// showing our origin, and its payload must match the contract; anything else is refused and logged.
import type { IpcMain, IpcMainEvent, IpcMainInvokeEvent, WebContents } from 'electron';
import * as v from 'valibot';
import { OpenKindSchema, RecentItemSchema, SaveFileRequestSchema, SHELL_CHANNELS, type OpenKind, type RecentItem, type SaveFileRequest } from '../contract/shell';
import { isTrustedSender } from './security';

export interface ShellIpcDeps {
  /** The window's contents (null when there is none). */
  contents(): WebContents | null;
  appOrigin: string;
  openDialog(kind: OpenKind): Promise<string | null>;
  saveFile(request: SaveFileRequest): Promise<string | null>;
  recent(): RecentItem[];
  addRecent(item: RecentItem): void;
  connectEngine(contents: WebContents): void;
  log(line: string): void;
}

export class IpcRefusedError extends Error {}

export function registerShellIpc(ipcMain: IpcMain, deps: ShellIpcDeps): void {
  const trusted = (channel: string, event: IpcMainEvent | IpcMainInvokeEvent): boolean => {
    if (isTrustedSender(event, deps.contents(), deps.appOrigin)) return true;
    deps.log(`refused ${channel} from ${event.senderFrame?.url ?? 'a frame that is gone'}`);
    return false;
  };
  const handle = <T>(channel: string, schema: v.GenericSchema<unknown, T>, run: (payload: T) => Promise<unknown> | unknown) => {
    ipcMain.handle(channel, async (event, payload: unknown) => {
      if (!trusted(channel, event)) throw new IpcRefusedError(`${channel}: refused, the sender is not the app's window`);
      const parsed = v.safeParse(schema, payload);
      if (!parsed.success) {
        deps.log(`refused ${channel}: ${parsed.issues[0].message}`);
        throw new IpcRefusedError(`${channel}: invalid payload: ${parsed.issues[0].message}`);
      }
      return run(parsed.output);
    });
  };

  handle(SHELL_CHANNELS.openDialog, OpenKindSchema, (kind) => deps.openDialog(kind));
  handle(SHELL_CHANNELS.saveFile, SaveFileRequestSchema, (request) => deps.saveFile(request));
  handle(SHELL_CHANNELS.recent, v.undefined(), () => deps.recent());
  handle(SHELL_CHANNELS.addRecent, RecentItemSchema, (item) => deps.addRecent(item));
  ipcMain.on(SHELL_CHANNELS.connectEngine, (event) => {
    if (trusted(SHELL_CHANNELS.connectEngine, event)) deps.connectEngine(event.sender);
  });
}
