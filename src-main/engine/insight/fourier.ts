// The inverse real 2-D DFT as matrix products with precomputed cosine and sine bases (tfjs has no FFT
// kernel on wasm): differentiable like any matMul, and separable, so 227x227 costs two small products.
import { tf } from '../tf';

/** Spectrum width of a real signal of width w: bins 0 .. floor(w / 2). */
export const rfftWidth = (w: number): number => Math.floor(w / 2) + 1;

export interface InverseRfft2d {
  height: number;
  width: number;
  /** [c, h, rfftWidth(w)] real and imaginary parts -> [c, h, w] real, as numpy's irfft2d (1 / (h w) included). */
  apply(re: tf.Tensor3D, im: tf.Tensor3D): tf.Tensor3D;
  dispose(): void;
}

export function inverseRfft2d(height: number, width: number): InverseRfft2d {
  const wf = rfftWidth(width);
  const ch = new Float32Array(height * height);
  const sh = new Float32Array(height * height);
  for (let y = 0; y < height; y++) {
    for (let u = 0; u < height; u++) {
      const a = (2 * Math.PI * ((u * y) % height)) / height;
      ch[y * height + u] = Math.cos(a) / height;
      sh[y * height + u] = Math.sin(a) / height;
    }
  }
  const bc = new Float32Array(wf * width);
  const bs = new Float32Array(wf * width);
  for (let v = 0; v < wf; v++) {
    // Bins other than 0 and the Nyquist bin stand for themselves and their mirror image.
    const weight = v === 0 || (width % 2 === 0 && v === width / 2) ? 1 : 2;
    for (let x = 0; x < width; x++) {
      const a = (2 * Math.PI * ((v * x) % width)) / width;
      bc[v * width + x] = (weight * Math.cos(a)) / width;
      bs[v * width + x] = (weight * Math.sin(a)) / width;
    }
  }
  const [Ch, Sh, Bc, Bs] = [tf.tensor2d(ch, [height, height]), tf.tensor2d(sh, [height, height]), tf.tensor2d(bc, [wf, width]), tf.tensor2d(bs, [wf, width])];
  return {
    height,
    width,
    apply(re, im) {
      return tf.tidy(() => {
        const c = re.shape[0];
        // Along y (complex): [h, c * wf].
        const r2 = tf.reshape(tf.transpose(re, [1, 0, 2]), [height, c * wf]);
        const i2 = tf.reshape(tf.transpose(im, [1, 0, 2]), [height, c * wf]);
        const tRe = tf.reshape(tf.sub(tf.matMul(Ch, r2), tf.matMul(Sh, i2)), [height * c, wf]);
        const tIm = tf.reshape(tf.add(tf.matMul(Sh, r2), tf.matMul(Ch, i2)), [height * c, wf]);
        // Along x (real output): [h * c, w] -> [c, h, w].
        const out = tf.sub(tf.matMul(tRe, Bc), tf.matMul(tIm, Bs));
        return tf.transpose(tf.reshape(out, [height, c, width]), [1, 0, 2]) as tf.Tensor3D;
      });
    },
    dispose() {
      tf.dispose([Ch, Sh, Bc, Bs]);
    },
  };
}

/** sqrt(fy^2 + fx^2) of each rfft2d bin, [h, rfftWidth(w)] (numpy's fftfreq / rfftfreq). */
export function rfftFrequencies(height: number, width: number): Float32Array {
  const wf = rfftWidth(width);
  const out = new Float32Array(height * wf);
  for (let u = 0; u < height; u++) {
    const fy = (u < Math.ceil(height / 2) ? u : u - height) / height;
    for (let v = 0; v < wf; v++) out[u * wf + v] = Math.hypot(fy, v / width);
  }
  return out;
}
