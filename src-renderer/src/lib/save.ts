// Saving an export: Electron's native save dialog where there is one, a download in the browser.
import type { Host } from '../host/host';
import { downloadBlob } from './download';

/** Saves the blob; returns where it went (a path, 'downloads'), or null when the user cancelled. */
export async function saveExport(host: Host, blob: Blob, filename: string): Promise<string | null> {
  if (host.shell) return host.shell.saveFile({ suggestedName: filename, data: new Uint8Array(await blob.arrayBuffer()) });
  downloadBlob(blob, filename);
  return 'downloads';
}
