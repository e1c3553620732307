// A differentiable bilinear resampling of an [h, w, c] image at given source coordinates, for the
// feature visualisation's random scale, rotation and jitter. tfjs' gather gradient needs
// UnsortedSegmentSum, which the wasm backend lacks: the backward pass here is the exact adjoint of the
// forward gathers as one scatterND (which sums repeated indices).
import { tf } from '../tf';

/**
 * Samples img at (srcY[i], srcX[i]) for each output pixel i (row-major out of outH x outW); samples outside
 * the image read `fill`.
 */
export function bilinearWarp(img: tf.Tensor3D, srcY: Float32Array, srcX: Float32Array, outH: number, outW: number, fill: number): tf.Tensor3D {
  const [h, w, c] = img.shape;
  const n = outH * outW;
  const indices = new Int32Array(4 * n);
  const weights = new Float32Array(4 * n);
  const corner = (k: number, i: number, cy: number, cx: number, wt: number) => {
    const inside = cy >= 0 && cy < h && cx >= 0 && cx < w;
    indices[k * n + i] = inside ? cy * w + cx : 0;
    weights[k * n + i] = inside ? wt : 0;
  };
  for (let i = 0; i < n; i++) {
    const y0 = Math.floor(srcY[i]);
    const x0 = Math.floor(srcX[i]);
    const fy = srcY[i] - y0;
    const fx = srcX[i] - x0;
    corner(0, i, y0, x0, (1 - fy) * (1 - fx));
    corner(1, i, y0, x0 + 1, (1 - fy) * fx);
    corner(2, i, y0 + 1, x0, fy * (1 - fx));
    corner(3, i, y0 + 1, x0 + 1, fy * fx);
  }
  return tf.tidy(() => {
    const idx = tf.tensor1d(indices, 'int32');
    const wts = tf.tensor2d(weights, [4 * n, 1]);
    // The fill's share at each output pixel: the weight of the corners that fell outside.
    const inside = tf.sum(tf.reshape(wts, [4, n]), 0);
    const sample = tf.customGrad(((flat: tf.Tensor, save: tf.GradSaveFunc) => {
      // Saved tensors outlive this tidy until the backward pass has run.
      save([idx, wts]);
      const gathered = tf.mul(tf.gather(flat as tf.Tensor2D, idx), wts);
      return {
        value: tf.sum(tf.reshape(gathered, [4, n, c]), 0),
        // dy [n, c] times each corner's weights [4, n, 1], broadcast (the wasm Tile kernel is a scalar loop).
        gradFunc: (dy: tf.Tensor, [i, wt]: tf.Tensor[]) =>
          tf.scatterND(tf.reshape(i, [4 * n, 1]), tf.reshape(tf.mul(tf.reshape(wt, [4, n, 1]), dy), [4 * n, c]), [h * w, c]),
      };
    }) as Parameters<typeof tf.customGrad>[0]);
    const sampled = sample(tf.reshape(img, [h * w, c])) as tf.Tensor2D;
    const filled = tf.add(sampled, tf.mul(tf.sub(1, tf.reshape(inside, [n, 1])), fill));
    return tf.reshape(filled, [outH, outW, c]) as tf.Tensor3D;
  });
}
