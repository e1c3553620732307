// What the window opens on: the bundled pretrained LeNet-5 run as the model to inspect, and a sample digit
// as the image, so every view has something real to show before the user drops anything.
import { describeError } from '../host/host';
import { host } from './connection.svelte';
import { models, openModelFile } from './models.svelte';
import { setImagePath, ui } from './ui.svelte';

/** Opens the app's defaults unless the user already chose a model or an image; true when it did. */
export async function openStartupDefaults(): Promise<boolean> {
  try {
    const h = await host();
    const defaults = await h.call('appDefaults', {});
    const chosen = models.sourceKey;
    if (!defaults.run || ui.image || models.opened.length > 0) return false;
    // Opening the run takes a while on a busy machine: a run the user opens meanwhile stays the one shown.
    await openModelFile(defaults.run, () => models.sourceKey === chosen);
    const sample = defaults.samples[0];
    if (sample && !ui.image) setImagePath(sample.path);
    return true;
  } catch (e) {
    ui.notice = `The bundled pretrained model could not be opened: ${describeError(e)}`;
    return false;
  }
}
