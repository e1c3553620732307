// What the whole window shares: the current view, the selected layer, and the image to inspect.
export const VIEWS = [
  { id: 'architecture', title: 'Architecture', key: '1' },
  { id: 'activations', title: 'Activations', key: '2' },
  { id: 'kernels', title: 'Kernels', key: '3' },
  { id: 'health', title: 'Activation health', key: '4' },
  { id: 'training', title: 'Training', key: '5' },
  { id: 'compare', title: 'Compare', key: '6' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export interface PendingImage {
  name: string;
  bytes: Uint8Array;
  /** Object URL of the original file, for display. */
  url: string;
}

export const ui = $state<{
  view: ViewId;
  /** Layer picked in any view (architecture click, activations, kernels). */
  selectedLayer: string | null;
  /** The image the Activations view shows; set by drops, Ctrl+O, the confusion matrix. */
  image: PendingImage | null;
  /** Bumped when the user asks to open an image (Ctrl+O): the Activations view opens its file picker. */
  openImageRequest: number;
}>({ view: 'architecture', selectedLayer: null, image: null, openImageRequest: 0 });

export function showView(view: ViewId): void {
  ui.view = view;
}

export function setImage(name: string, bytes: Uint8Array, type = ''): void {
  if (ui.image) URL.revokeObjectURL(ui.image.url);
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  ui.image = { name, bytes, url };
}
