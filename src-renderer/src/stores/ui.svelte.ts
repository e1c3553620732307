// What the whole window shares: the current view, the selected layer, and the image to inspect.
import type { ImageInput } from '../../../src-main/contract/inspect';

export const VIEWS = [
  { id: 'architecture', title: 'Architecture', key: '1' },
  { id: 'activations', title: 'Activations', key: '2' },
  { id: 'kernels', title: 'Kernels', key: '3' },
  { id: 'health', title: 'Activation health', key: '4' },
  { id: 'training', title: 'Training', key: '5' },
  { id: 'compare', title: 'Compare', key: '6' },
  { id: 'neighbours', title: 'Neighbours & map', key: '7' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export interface PendingImage {
  name: string;
  /** The file's bytes (a drop, a file picker), its path (Electron's open dialog and menu), or a dataset example (a confusion cell's). */
  source: ImageInput;
  /** Object URL of the original file for display; null for a path the page cannot read itself. */
  url: string | null;
}

export const ui = $state<{
  view: ViewId;
  /** Layer picked in any view (architecture click, activations, kernels). */
  selectedLayer: string | null;
  /** The image the Activations view shows; set by drops, Ctrl+O, the confusion matrix. */
  image: PendingImage | null;
  /** Bumped when the user asks to open an image (Ctrl+O): the Activations view opens its file picker. */
  openImageRequest: number;
  /** Bumped by the Export menu command: the current view exports its figure. */
  exportRequest: number;
  /** A short message for the whole window (menu commands' outcomes). */
  notice: string | null;
}>({ view: 'architecture', selectedLayer: null, image: null, openImageRequest: 0, exportRequest: 0, notice: null });

export function showView(view: ViewId): void {
  ui.view = view;
}

/**
 * Runs `work` and then shows `view`, unless the user went to another view while it ran: a switch that
 * lands after an await must not undo the user's own navigation.
 */
export async function showViewAfter<T>(view: ViewId, work: () => Promise<T>): Promise<T> {
  const from = ui.view;
  const result = await work();
  if (ui.view === from) showView(view);
  return result;
}

export function setImage(name: string, bytes: Uint8Array, type = ''): void {
  if (ui.image?.url) URL.revokeObjectURL(ui.image.url);
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  ui.image = { name, source: { kind: 'bytes', data: bytes }, url };
}

/** One example of a dataset split, as `evaluate` numbers them (the engine reads its stored pixels). */
export function setImageExample(example: Omit<Extract<ImageInput, { kind: 'example' }>, 'kind'>, name: string): void {
  if (ui.image?.url) URL.revokeObjectURL(ui.image.url);
  ui.image = { name, source: { kind: 'example', ...example }, url: null };
}

export function setImagePath(path: string): void {
  if (ui.image?.url) URL.revokeObjectURL(ui.image.url);
  ui.image = { name: path.split(/[\\/]/).at(-1) ?? path, source: { kind: 'path', path }, url: null };
}
