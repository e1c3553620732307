// ConvScope's own WebAssembly kernels (AssemblyScript). They run in place on the wasm backend's
// memory: every pointer is a byte offset of a float32 NHWC tensor in that memory. No static data and
// no allocator: the module must never write outside the tensors it is given.
// Built by scripts/build-wasm-kernels.mjs into direct-binary.ts (do not edit that file by hand).

/**
 * MaxPoolGrad as TensorFlow defines it: each window's gradient goes to the window's first maximum in
 * row-major order (cells outside the image never win), and overlapping windows add up, in output order.
 * (The shipped wasm kernel starts each maximum at FLT_MIN, the smallest positive float, which is
 * wrong for windows whose values are all negative, and for 'same' padding.)
 */
export function maxPoolGrad(
  x: usize, dy: usize, dx: usize,
  n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  memory.fill(dx, 0, (<usize>n * <usize>h * <usize>w * <usize>c) << 2);
  const c4 = c & ~3;
  const lanes = i32x4(0, 1, 2, 3);
  let out: usize = 0;
  for (let b = 0; b < n; b++) {
    const image = <usize>b * <usize>h * <usize>w * <usize>c;
    for (let r = 0; r < oh; r++) {
      const r0 = r * sh - top;
      const khStart = max(0, -r0);
      const khEnd = min(fh, h - r0);
      for (let q = 0; q < ow; q++, out += <usize>c) {
        const q0 = q * sw - left;
        const kwStart = max(0, -q0);
        const kwEnd = min(fw, w - q0);
        if (khStart >= khEnd || kwStart >= kwEnd) continue;
        const first = image + (<usize>(r0 + khStart) * <usize>w + <usize>(q0 + kwStart)) * <usize>c;
        let ch = 0;
        // Four channels at a time: the running maximum and its cell index per lane.
        for (; ch < c4; ch += 4) {
          let bestCell = i32x4.add(i32x4.splat(<i32>(first + <usize>ch)), lanes);
          let best = v128.load(x + ((first + <usize>ch) << 2));
          for (let kh = khStart; kh < khEnd; kh++) {
            for (let kw = kwStart; kw < kwEnd; kw++) {
              const cell = image + (<usize>(r0 + kh) * <usize>w + <usize>(q0 + kw)) * <usize>c + <usize>ch;
              const v = v128.load(x + (cell << 2));
              const wins = f32x4.gt(v, best);
              best = v128.bitselect(v, best, wins);
              bestCell = v128.bitselect(i32x4.add(i32x4.splat(<i32>cell), lanes), bestCell, wins);
            }
          }
          const g = v128.load(dy + ((out + <usize>ch) << 2));
          addAt(dx, <usize>i32x4.extract_lane(bestCell, 0), f32x4.extract_lane(g, 0));
          addAt(dx, <usize>i32x4.extract_lane(bestCell, 1), f32x4.extract_lane(g, 1));
          addAt(dx, <usize>i32x4.extract_lane(bestCell, 2), f32x4.extract_lane(g, 2));
          addAt(dx, <usize>i32x4.extract_lane(bestCell, 3), f32x4.extract_lane(g, 3));
        }
        for (; ch < c; ch++) {
          let bestCell = first + <usize>ch;
          let best = load<f32>(x + (bestCell << 2));
          for (let kh = khStart; kh < khEnd; kh++) {
            for (let kw = kwStart; kw < kwEnd; kw++) {
              const cell = image + (<usize>(r0 + kh) * <usize>w + <usize>(q0 + kw)) * <usize>c + <usize>ch;
              const v = load<f32>(x + (cell << 2));
              if (v > best) {
                best = v;
                bestCell = cell;
              }
            }
          }
          addAt(dx, bestCell, load<f32>(dy + ((out + <usize>ch) << 2)));
        }
      }
    }
  }
}

/**
 * Local response normalisation across channels, y_i = x_i / (bias + alpha * sum_{|j-i|<=r} x_j^2)^beta,
 * for beta = 0.75 (the paper's) or 0.5, where the power is square roots (exact to float rounding).
 * `x` and `y` hold `positions` pixels of `c` channels each. (The shipped kernel calls pow per element.)
 */
export function lrn(x: usize, y: usize, positions: i32, c: i32, r: i32, bias: f32, alpha: f32, threeQuarters: bool): void {
  const vBias = f32x4.splat(bias);
  const vAlpha = f32x4.splat(alpha);
  const one = f32x4.splat(1);
  // Channels whose whole window lies inside [0, c) in fours; the rest one by one.
  const inner = r + ((c - 2 * r) & ~3);
  for (let p = 0; p < positions; p++) {
    const base = <usize>p * <usize>c;
    let ch = 0;
    for (; ch < r && ch < c; ch++) lrnOne(x, y, base, c, ch, r, bias, alpha, threeQuarters);
    for (; ch < inner; ch += 4) {
      let sum = f32x4.splat(0);
      for (let j = -r; j <= r; j++) {
        const v = v128.load(x + ((base + <usize>(ch + j)) << 2));
        sum = f32x4.add(sum, f32x4.mul(v, v));
      }
      const root = f32x4.sqrt(f32x4.add(vBias, f32x4.mul(vAlpha, sum)));
      const power = threeQuarters ? f32x4.mul(root, f32x4.sqrt(root)) : root;
      const at = x + ((base + <usize>ch) << 2);
      v128.store(y + ((base + <usize>ch) << 2), f32x4.mul(v128.load(at), f32x4.div(one, power)));
    }
    for (; ch < c; ch++) lrnOne(x, y, base, c, ch, r, bias, alpha, threeQuarters);
  }
}

// @ts-ignore: AssemblyScript decorator
@inline function lrnOne(x: usize, y: usize, base: usize, c: i32, ch: i32, r: i32, bias: f32, alpha: f32, threeQuarters: bool): void {
  let sum: f32 = 0;
  const end = min(c - 1, ch + r);
  for (let j = max(0, ch - r); j <= end; j++) {
    const v = load<f32>(x + ((base + <usize>j) << 2));
    sum += v * v;
  }
  const root = Mathf.sqrt(bias + alpha * sum);
  const power = threeQuarters ? root * Mathf.sqrt(root) : root;
  store<f32>(y + ((base + <usize>ch) << 2), load<f32>(x + ((base + <usize>ch) << 2)) * (1 / power));
}

// @ts-ignore: AssemblyScript decorator
@inline function addAt(base: usize, index: usize, value: f32): void {
  const p = base + (index << 2);
  store<f32>(p, load<f32>(p) + value);
}
