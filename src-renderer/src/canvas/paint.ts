// Puts RGBA pixels on a canvas at their own resolution; CSS scales them up with crisp pixels.
export function paintRgba(canvas: HTMLCanvasElement, rgba: Uint8ClampedArray, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = new ImageData(width, height);
  image.data.set(rgba);
  ctx.putImageData(image, 0, 0);
}
