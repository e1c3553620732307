// The sandboxed preload (bundled to one CommonJS file): puts window.convscope = { engine, shell } in the
// page, and nothing else: the contract's functions over a direct MessagePort to the engine, and the
// shell's few calls. Serves only a page of the app's own origin; every message from main is checked.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import * as v from 'valibot';
import {
  createEngineApi,
  EngineClient,
  EnginePortMessageSchema,
  messagePortTransport,
  OpenKindSchema,
  RecentItemSchema,
  RecentListSchema,
  SaveFileRequestSchema,
  SHELL_CHANNELS,
  ShellCommandSchema,
  type ConvscopeBridge,
  type ShellApi,
  type ShellCommand,
} from '../contract';
import { ORIGIN_ARG, originOf } from './security';

const appOrigin = process.argv.find((a) => a.startsWith(ORIGIN_ARG))?.slice(ORIGIN_ARG.length);

/** The page this preload runs in is the app's own (not a page it was somehow navigated to). */
function pageIsApp(): boolean {
  return appOrigin !== undefined && originOf(globalThis.location.href) === appOrigin;
}

function refuse(what: string, why: string): void {
  console.warn(`convscope preload: ignored ${what}: ${why}`);
}

const client = new EngineClient(undefined, { onProtocolError: (e) => refuse('an engine message', e.message) });

ipcRenderer.on(SHELL_CHANNELS.enginePort, (event: IpcRendererEvent, payload: unknown) => {
  if (!pageIsApp()) return refuse('an engine port', 'the page is not the app');
  const parsed = v.safeParse(EnginePortMessageSchema, payload);
  if (!parsed.success) return refuse('an engine port', parsed.issues[0].message);
  if (event.ports.length > 1) return refuse('an engine port', `${event.ports.length} ports sent`);
  // Arguments from the page were copied across the context bridge: moving them on is safe.
  if (event.ports.length === 1) client.attach(messagePortTransport(event.ports[0], { transfer: true }));
  if (parsed.output.notice) client.notify(parsed.output.notice);
});

const commandListeners = new Set<(command: ShellCommand) => void>();
ipcRenderer.on(SHELL_CHANNELS.command, (event: IpcRendererEvent, payload: unknown) => {
  if (!pageIsApp()) return refuse('a command', 'the page is not the app');
  if (event.ports.length > 0) return refuse('a command', 'it carried ports');
  const parsed = v.safeParse(ShellCommandSchema, payload);
  if (!parsed.success) return refuse('a command', parsed.issues[0].message);
  for (const listener of [...commandListeners]) listener(parsed.output);
});

async function invokeChecked<T>(channel: string, payload: unknown, reply: v.GenericSchema<unknown, T>): Promise<T> {
  const result: unknown = await ipcRenderer.invoke(channel, payload);
  const parsed = v.safeParse(reply, result);
  if (!parsed.success) throw new Error(`${channel}: unexpected reply: ${parsed.issues[0].message}`);
  return parsed.output;
}

function checked<T>(schema: v.GenericSchema<unknown, T>, value: unknown, what: string): T {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw new TypeError(`${what}: ${parsed.issues[0].message}`);
  return parsed.output;
}

const PathOrNull = v.nullable(v.string());

const shell: ShellApi = {
  openDialog: (kind) => invokeChecked(SHELL_CHANNELS.openDialog, checked(OpenKindSchema, kind, 'openDialog'), PathOrNull),
  saveFile: (request) => invokeChecked(SHELL_CHANNELS.saveFile, checked(SaveFileRequestSchema, request, 'saveFile'), PathOrNull),
  recent: () => invokeChecked(SHELL_CHANNELS.recent, undefined, RecentListSchema),
  addRecent: (item) => invokeChecked(SHELL_CHANNELS.addRecent, checked(RecentItemSchema, item, 'addRecent'), v.undefined()),
  onCommand(listener) {
    commandListeners.add(listener);
    return () => commandListeners.delete(listener);
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
};

if (pageIsApp()) {
  const bridge: ConvscopeBridge = { engine: createEngineApi(client), shell };
  contextBridge.exposeInMainWorld('convscope', bridge);
  ipcRenderer.send(SHELL_CHANNELS.connectEngine);
} else {
  refuse('this page', `its origin ${originOf(globalThis.location.href)} is not the app's (${appOrigin ?? 'none given'})`);
}
