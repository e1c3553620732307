// Number formats of the unit panel, shared with the zoom readout so that the same value reads the same.
export const fmtValue = (v: number): string => (Number.isNaN(v) ? 'pad' : v.toPrecision(4));
export const fmtCell = (v: number): string => (Number.isNaN(v) ? '·' : Math.abs(v) >= 100 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : v.toFixed(2));

/** One channel's [h, w] slice of an [h, w, c] row-major array. */
export function channelSlice(data: Float32Array, height: number, width: number, channels: number, c: number): number[][] {
  return Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => data[(y * width + x) * channels + c]));
}

/** Output size of a convolution or pooling window along one axis. */
export function slidingOutputSize(input: number, kernel: number, stride: number, padding: number): number {
  return Math.max(0, Math.floor((input + 2 * padding - kernel) / stride) + 1);
}
