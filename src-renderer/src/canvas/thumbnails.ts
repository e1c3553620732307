// Small data-URL pictures of activation channels (architecture thumbnails).
import type { InspectResult } from '../../../src-main/contract/inspect';
import { scaleFor } from '../theme/colours';
import { channelRange, channelToRgba } from './tensor-image';

/** Up to `count` channel maps of every spatial layer, as PNG data URLs keyed by layer name. */
export function layerThumbnails(result: InspectResult, count: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  if (!ctx) return out;
  for (const layer of result.layers) {
    const [h, w, c] = layer.output.shape;
    if (layer.output.shape.length !== 3) continue;
    const t = { data: layer.output.data, height: h, width: w, channels: c };
    canvas.width = w;
    canvas.height = h;
    const layerRange = { min: layer.stats.min };
    const urls: string[] = [];
    for (let ch = 0; ch < Math.min(count, c); ch++) {
      const r = channelRange(t, ch);
      const img = new ImageData(w, h);
      channelToRgba(t, ch, scaleFor(r.min, r.max, layerRange), img.data);
      ctx.putImageData(img, 0, 0);
      urls.push(canvas.toDataURL('image/png'));
    }
    out[layer.name] = urls;
  }
  return out;
}
