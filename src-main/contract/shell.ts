// The Electron shell's own small API beside the engine's (the web version has none): native file
// dialogs, recent files, saving exports, menu commands, and the path of a dropped file.
import * as v from 'valibot';
import { PathSchema, Uint8ArraySchema } from './common';
import type { EngineApi } from './engine-api';
import { EngineNoticeSchema } from './wire';

export const OPEN_KINDS = ['image', 'model', 'run'] as const;
export const OpenKindSchema = v.picklist(OPEN_KINDS);
export type OpenKind = v.InferOutput<typeof OpenKindSchema>;

/** What the app menu (or a file given to a second instance) asks the page to do. */
export const ShellCommandSchema = v.variant('type', [
  v.object({ type: v.literal('open'), kind: OpenKindSchema, path: PathSchema }),
  v.object({ type: v.literal('export') }),
]);
export type ShellCommand = v.InferOutput<typeof ShellCommandSchema>;

export const RecentItemSchema = v.object({ kind: OpenKindSchema, path: PathSchema });
export type RecentItem = v.InferOutput<typeof RecentItemSchema>;
export const RecentListSchema = v.array(RecentItemSchema);

export const MAX_SAVE_BYTES = 512 * 2 ** 20;
export const SaveFileRequestSchema = v.strictObject({
  /** e.g. 'lenet5-kernels.png'. */
  suggestedName: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
  data: v.pipe(Uint8ArraySchema, v.maxLength(MAX_SAVE_BYTES)),
});
export type SaveFileRequest = v.InferOutput<typeof SaveFileRequestSchema>;

/** What main sends with (or, when the engine cannot start, instead of) a new engine port. */
export const EnginePortMessageSchema = v.strictObject({ notice: v.optional(EngineNoticeSchema) });
export type EnginePortMessage = v.InferOutput<typeof EnginePortMessageSchema>;

/** The IPC channels between preload and main (the page never sees them). */
export const SHELL_CHANNELS = {
  openDialog: 'shell:open-dialog',
  saveFile: 'shell:save-file',
  recent: 'shell:recent',
  addRecent: 'shell:add-recent',
  command: 'shell:command',
  connectEngine: 'engine:connect',
  enginePort: 'engine:port',
} as const;

export interface ShellApi {
  /** A native open dialog; the chosen path, or null. */
  openDialog(kind: OpenKind): Promise<string | null>;
  /** A native save dialog, then the bytes written; the path written, or null if the user cancelled. */
  saveFile(request: SaveFileRequest): Promise<string | null>;
  recent(): Promise<RecentItem[]>;
  /** Records a file the page opened itself (e.g. a drop), for the Recent menu. */
  addRecent(item: RecentItem): Promise<void>;
  onCommand(listener: (command: ShellCommand) => void): () => void;
  /** The file-system path of a dropped File ('' for one that has none). */
  pathForFile(file: File): string;
}

/** What the preload puts on window.convscope. */
export interface ConvscopeBridge {
  engine: EngineApi;
  shell: ShellApi;
}
