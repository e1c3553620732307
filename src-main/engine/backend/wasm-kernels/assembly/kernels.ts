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
        // Fewer than 4 channels: one at a time.
        for (let ch = 0; ch < c && c < 4; ch++) {
          let bestCell = first + <usize>ch;
          let best = load<f32>(x + (bestCell << 2));
          for (let kh = khStart; kh < khEnd; kh++) {
            for (let kw = kwStart; kw < kwEnd; kw++) {
              const cell = image + (<usize>(r0 + kh) * <usize>w + <usize>(q0 + kw)) * <usize>c + <usize>ch;
              const v = load<f32>(x + (cell << 2));
              const wins = v > best;
              best = select<f32>(v, best, wins);
              bestCell = select<usize>(cell, bestCell, wins);
            }
          }
          addAt(dx, bestCell, load<f32>(dy + ((out + <usize>ch) << 2)));
        }
        // Four channels at a time: the running maximum and its cell index per lane. Past the last
        // whole group, one more group ending at the last channel, of which only the new lanes count.
        for (let ch = 0; ch < c && c >= 4; ch += 4) {
          const at = min(ch, c - 4);
          let bestCell = i32x4.add(i32x4.splat(<i32>(first + <usize>at)), lanes);
          let best = v128.load(x + ((first + <usize>at) << 2));
          for (let kh = khStart; kh < khEnd; kh++) {
            for (let kw = kwStart; kw < kwEnd; kw++) {
              const cell = image + (<usize>(r0 + kh) * <usize>w + <usize>(q0 + kw)) * <usize>c + <usize>at;
              const v = v128.load(x + (cell << 2));
              const wins = f32x4.gt(v, best);
              best = v128.bitselect(v, best, wins);
              bestCell = v128.bitselect(i32x4.add(i32x4.splat(<i32>cell), lanes), bestCell, wins);
            }
          }
          const g = v128.load(dy + ((out + <usize>at) << 2));
          const skip = ch - at;
          if (skip < 1) addAt(dx, <usize>i32x4.extract_lane(bestCell, 0), f32x4.extract_lane(g, 0));
          if (skip < 2) addAt(dx, <usize>i32x4.extract_lane(bestCell, 1), f32x4.extract_lane(g, 1));
          if (skip < 3) addAt(dx, <usize>i32x4.extract_lane(bestCell, 2), f32x4.extract_lane(g, 2));
          addAt(dx, <usize>i32x4.extract_lane(bestCell, 3), f32x4.extract_lane(g, 3));
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

/**
 * The filter gradient of a stride-(sh, sw), dilation-(dh, dwd) convolution of `x` (already padded: window
 * (r, q) starts at row r*sh, column q*sw) that gave `dy`:
 *   dW[kh, kw, c, o] = sum over b, r, q of x[b, r*sh + kh*dh, q*sw + kw*dwd, c] * dy[b, r, q, o].
 * Blocks of 4 taps (kh, kw, c) by 8 output channels are summed in registers, one image at a time (its dy
 * stays in cache), into `scratch` ([K rounded up to 4] x [co rounded up to 8], then K tap offsets),
 * and finally copied to dW. dy is read in whole vectors: the caller guarantees readable memory past
 * dy's last pixel for the lanes past co. (The tap offsets come from a table: computed with divisions
 * next to the loop, they made V8's code four times slower.)
 */
export function convBackpropFilter(
  x: usize, dy: usize, dw: usize, scratch: usize,
  n: i32, h: i32, w: i32, ci: i32, oh: i32, ow: i32, co: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, dh: i32, dwd: i32,
): void {
  const k = fh * fw * ci;
  const kPad = (k + 3) & ~3;
  const coPad = (co + 7) & ~7;
  const rowBytes = <usize>coPad << 2;
  memory.fill(scratch, 0, <usize>kPad * rowBytes);
  // Byte offset of each tap from its window's first cell; the last tap repeated up to kPad.
  const taps = scratch + <usize>kPad * rowBytes;
  for (let kh = 0, t = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      for (let c = 0; c < ci; c++, t++) store<u32>(taps + (<usize>t << 2), ((kh * dh * w + kw * dwd) * ci + c) << 2);
    }
  }
  for (let t = k; t < kPad; t++) store<u32>(taps + (<usize>t << 2), load<u32>(taps + (<usize>(k - 1) << 2)));
  const xStep = <usize>(sw * ci) << 2;
  const dyStep = <usize>co << 2;
  for (let b = 0; b < n; b++) {
    for (let kt = 0; kt < kPad; kt += 4) {
      const o0 = <usize>load<u32>(taps + (<usize>kt << 2));
      const o1 = <usize>load<u32>(taps + (<usize>(kt + 1) << 2));
      const o2 = <usize>load<u32>(taps + (<usize>(kt + 2) << 2));
      const o3 = <usize>load<u32>(taps + (<usize>(kt + 3) << 2));
      for (let ct = 0; ct < coPad; ct += 8) {
        const s = scratch + <usize>kt * rowBytes + (<usize>ct << 2);
        let a00 = v128.load(s), a01 = v128.load(s, 16);
        let a10 = v128.load(s + rowBytes), a11 = v128.load(s + rowBytes, 16);
        let a20 = v128.load(s + 2 * rowBytes), a21 = v128.load(s + 2 * rowBytes, 16);
        let a30 = v128.load(s + 3 * rowBytes), a31 = v128.load(s + 3 * rowBytes, 16);
        for (let r = 0; r < oh; r++) {
          let px = x + ((<usize>(b * h + r * sh) * <usize>w * <usize>ci) << 2);
          let pd = dy + ((<usize>(b * oh + r) * <usize>ow * <usize>co + <usize>ct) << 2);
          for (let q = 0; q < ow; q++, px += xStep, pd += dyStep) {
            const d0 = v128.load(pd);
            const d1 = v128.load(pd, 16);
            let v = v128.load32_splat(px + o0);
            a00 = f32x4.add(a00, f32x4.mul(v, d0));
            a01 = f32x4.add(a01, f32x4.mul(v, d1));
            v = v128.load32_splat(px + o1);
            a10 = f32x4.add(a10, f32x4.mul(v, d0));
            a11 = f32x4.add(a11, f32x4.mul(v, d1));
            v = v128.load32_splat(px + o2);
            a20 = f32x4.add(a20, f32x4.mul(v, d0));
            a21 = f32x4.add(a21, f32x4.mul(v, d1));
            v = v128.load32_splat(px + o3);
            a30 = f32x4.add(a30, f32x4.mul(v, d0));
            a31 = f32x4.add(a31, f32x4.mul(v, d1));
          }
        }
        v128.store(s, a00); v128.store(s, a01, 16);
        v128.store(s + rowBytes, a10); v128.store(s + rowBytes, a11, 16);
        v128.store(s + 2 * rowBytes, a20); v128.store(s + 2 * rowBytes, a21, 16);
        v128.store(s + 3 * rowBytes, a30); v128.store(s + 3 * rowBytes, a31, 16);
      }
    }
  }
  for (let i = 0; i < k; i++) memory.copy(dw + ((<usize>i * <usize>co) << 2), scratch + <usize>i * rowBytes, <usize>co << 2);
}

/**
 * y = x + bias along the last axis (`c` channels), as one pass over the flat data: the bias repeated
 * to a whole number of vectors (lcm(c, 4) floats) is written to `pattern` and added chunk by chunk.
 */
export function addBias(x: usize, bias: usize, y: usize, size: i32, c: i32, pattern: usize): void {
  const period = lcmWith4(c);
  for (let i = 0; i < period; i++) store<f32>(pattern + (<usize>i << 2), load<f32>(bias + (<usize>(i % c) << 2)));
  const whole = size - size % period;
  for (let i = 0; i < whole; i += period) {
    const at = <usize>i << 2;
    for (let j = 0; j < period; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + at + o, f32x4.add(v128.load(x + at + o), v128.load(pattern + o)));
    }
  }
  for (let i = whole; i < size; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, load<f32>(x + at) + load<f32>(pattern + (<usize>(i - whole) << 2)));
  }
}

/**
 * y[j] = sum over rows of x[row, j] (`c` channels), as one pass over the flat data: per-lane sums of
 * lcm(c, 4)-float chunks in `partial`, then folded into the c outputs.
 */
export function sumRows(x: usize, y: usize, size: i32, c: i32, partial: usize): void {
  const period = lcmWith4(c);
  memory.fill(partial, 0, <usize>period << 2);
  const whole = size - size % period;
  for (let i = 0; i < whole; i += period) {
    const at = <usize>i << 2;
    for (let j = 0; j < period; j += 4) {
      const o = <usize>j << 2;
      v128.store(partial + o, f32x4.add(v128.load(partial + o), v128.load(x + at + o)));
    }
  }
  for (let i = whole; i < size; i++) {
    const o = <usize>(i - whole) << 2;
    store<f32>(partial + o, load<f32>(partial + o) + load<f32>(x + (<usize>i << 2)));
  }
  for (let j = 0; j < c; j++) {
    let sum: f32 = 0;
    for (let m = j; m < period; m += c) sum += load<f32>(partial + (<usize>m << 2));
    store<f32>(y + (<usize>j << 2), sum);
  }
}

// @ts-ignore: AssemblyScript decorator
@inline function lcmWith4(c: i32): i32 {
  return c % 4 == 0 ? c : c % 2 == 0 ? 2 * c : 4 * c;
}

/**
 * A convolution y[b, r, q, o] = bias[o] + sum over kh, kw, c of x[b, r*sh + kh*dh, q*sw + kw*dwd, c] * f[kh, kw, c, o],
 * then max(0, y) if `relu`; `x` already padded, `bias` 0 for none. Four neighbouring output pixels of a
 * row by 8 output channels are summed in registers over every tap, starting from the bias; a row's last
 * pixels one at a time. `taps` receives the fh*fw*ci tap offsets. `f` and `bias` are read in whole
 * vectors: the caller guarantees readable memory past their ends.
 */
export function conv2d(
  x: usize, f: usize, bias: usize, y: usize, taps: usize,
  n: i32, h: i32, w: i32, ci: i32, oh: i32, ow: i32, co: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, dh: i32, dwd: i32, relu: bool,
): void {
  const k = fh * fw * ci;
  for (let kh = 0, t = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      for (let c = 0; c < ci; c++, t++) store<u32>(taps + (<usize>t << 2), ((kh * dh * w + kw * dwd) * ci + c) << 2);
    }
  }
  const tapsEnd = taps + (<usize>k << 2);
  const fStep = <usize>co << 2;
  const xStep = <usize>(sw * ci) << 2;
  const ow4 = ow & ~3;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const rowX = x + ((<usize>(b * h + r * sh) * <usize>w * <usize>ci) << 2);
      const rowY = y + ((<usize>(b * oh + r) * <usize>ow * <usize>co) << 2);
      for (let ct = 0; ct < co; ct += 8) {
        const lanes = min(8, co - ct);
        const b0 = bias ? v128.load(bias + (<usize>ct << 2)) : f32x4.splat(0);
        const b1 = bias ? v128.load(bias + (<usize>ct << 2), 16) : f32x4.splat(0);
        let q = 0;
        for (; q < ow4; q += 4) {
          const px = rowX + <usize>q * xStep;
          let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
          let pf = f + (<usize>ct << 2);
          for (let pt = taps; pt < tapsEnd; pt += 4, pf += fStep) {
            const at = px + <usize>load<u32>(pt);
            const f0 = v128.load(pf);
            const f1 = v128.load(pf, 16);
            let v = v128.load32_splat(at);
            a00 = f32x4.add(a00, f32x4.mul(v, f0));
            a01 = f32x4.add(a01, f32x4.mul(v, f1));
            v = v128.load32_splat(at + xStep);
            a10 = f32x4.add(a10, f32x4.mul(v, f0));
            a11 = f32x4.add(a11, f32x4.mul(v, f1));
            v = v128.load32_splat(at + 2 * xStep);
            a20 = f32x4.add(a20, f32x4.mul(v, f0));
            a21 = f32x4.add(a21, f32x4.mul(v, f1));
            v = v128.load32_splat(at + 3 * xStep);
            a30 = f32x4.add(a30, f32x4.mul(v, f0));
            a31 = f32x4.add(a31, f32x4.mul(v, f1));
          }
          const out = rowY + ((<usize>q * <usize>co + <usize>ct) << 2);
          storeLanes(out, a00, a01, lanes, relu);
          storeLanes(out + fStep, a10, a11, lanes, relu);
          storeLanes(out + 2 * fStep, a20, a21, lanes, relu);
          storeLanes(out + 3 * fStep, a30, a31, lanes, relu);
        }
        for (; q < ow; q++) {
          const px = rowX + <usize>q * xStep;
          let a0 = b0, a1 = b1;
          let pf = f + (<usize>ct << 2);
          for (let pt = taps; pt < tapsEnd; pt += 4, pf += fStep) {
            const v = v128.load32_splat(px + <usize>load<u32>(pt));
            a0 = f32x4.add(a0, f32x4.mul(v, v128.load(pf)));
            a1 = f32x4.add(a1, f32x4.mul(v, v128.load(pf, 16)));
          }
          storeLanes(rowY + ((<usize>q * <usize>co + <usize>ct) << 2), a0, a1, lanes, relu);
        }
      }
    }
  }
}

/** The first `lanes` (1 to 8) floats of the pair (lo, hi) at `at`, through max(0, .) if `relu`. */
// @ts-ignore: AssemblyScript decorator
@inline function storeLanes(at: usize, lo: v128, hi: v128, lanes: i32, relu: bool): void {
  if (relu) {
    lo = f32x4.max(lo, f32x4.splat(0));
    hi = f32x4.max(hi, f32x4.splat(0));
  }
  if (lanes == 8) {
    v128.store(at, lo);
    v128.store(at, hi, 16);
    return;
  }
  let v = lo;
  let i = 0;
  if (lanes >= 4) {
    v128.store(at, lo);
    v = hi;
    i = 4;
  }
  const rest = lanes - i;
  const p = at + (<usize>i << 2);
  if (rest > 0) v128.store32_lane(p, v, 0);
  if (rest > 1) v128.store32_lane(p, v, 1, 4);
  if (rest > 2) v128.store32_lane(p, v, 2, 8);
}

/**
 * y = tanh(x), within 2 float32 ulps: for |x| < 0.5 its odd Taylor series to x^15 (terms beyond are
 * below 1e-8 relative), else 1 - 2 / (exp(2|x|) + 1) with the sign of x; exp by 2^n e^r, |r| <= ln2/2,
 * e^r to r^7. |x| is clamped at 10, where tanh is 1 in float32. The sign is x's (-0 stays -0); NaN
 * stays NaN.
 */
export function tanh(x: usize, y: usize, size: i32): void {
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, tanh4(v128.load(x + o)));
  }
  if (i < size) {
    // The last 1 to 3 elements through the same arithmetic, lane by lane.
    let v = f32x4.splat(0);
    v = f32x4.replace_lane(v, 0, load<f32>(x + (<usize>i << 2)));
    if (i + 1 < size) v = f32x4.replace_lane(v, 1, load<f32>(x + (<usize>(i + 1) << 2)));
    if (i + 2 < size) v = f32x4.replace_lane(v, 2, load<f32>(x + (<usize>(i + 2) << 2)));
    const t = tanh4(v);
    store<f32>(y + (<usize>i << 2), f32x4.extract_lane(t, 0));
    if (i + 1 < size) store<f32>(y + (<usize>(i + 1) << 2), f32x4.extract_lane(t, 1));
    if (i + 2 < size) store<f32>(y + (<usize>(i + 2) << 2), f32x4.extract_lane(t, 2));
  }
}

// @ts-ignore: AssemblyScript decorator
@inline function tanh4(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const a = f32x4.abs(x);
  // Saturated lanes (common in a tanh network) need neither branch; NaN is not saturated.
  const saturated = f32x4.ge(a, f32x4.splat(10));
  if (i32x4.all_true(saturated)) return v128.or(f32x4.splat(1), sign);
  const isSmall = f32x4.lt(a, f32x4.splat(0.5));
  let small = a;
  if (v128.any_true(isSmall)) {
    // a + a^3 (c3 + a^2 (c5 + ...)), the series' coefficients.
    const s = f32x4.mul(a, a);
    let p = f32x4.splat(<f32>(-929569.0 / 638512875.0));
    p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(21844.0 / 6081075.0)));
    p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-1382.0 / 155925.0)));
    p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(62.0 / 2835.0)));
    p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-17.0 / 315.0)));
    p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(2.0 / 15.0)));
    p = f32x4.add(f32x4.mul(p, s), f32x4.splat(<f32>(-1.0 / 3.0)));
    small = f32x4.add(a, f32x4.mul(f32x4.mul(a, s), p));
    if (i32x4.all_true(isSmall)) return v128.or(small, sign);
  }
  // 1 - 2 / (exp(2|x|) + 1), exp(z) = 2^n e^r.
  const z = f32x4.mul(f32x4.min(a, f32x4.splat(10)), f32x4.splat(2));
  const n = f32x4.nearest(f32x4.mul(z, f32x4.splat(1.44269504)));
  const r = f32x4.sub(f32x4.sub(z, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let e = f32x4.splat(<f32>(1.0 / 5040.0));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(<f32>(1.0 / 720.0)));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(<f32>(1.0 / 120.0)));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(<f32>(1.0 / 24.0)));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(<f32>(1.0 / 6.0)));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(0.5));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(1));
  e = f32x4.add(f32x4.mul(e, r), f32x4.splat(1));
  e = f32x4.mul(e, i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23));
  const large = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  return v128.or(v128.bitselect(small, large, isSmall), sign);
}

/** The gradient of tanh from its output: dx = (1 - y * y) * dy, rounded as tfjs' Square, Sub, Mul. */
export function tanhGrad(y: usize, dy: usize, dx: usize, size: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const o = <usize>i << 2;
    const t = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(f32x4.sub(one, f32x4.mul(t, t)), v128.load(dy + o)));
  }
  for (; i < size; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(y + o);
    store<f32>(dx + o, (1 - t * t) * load<f32>(dy + o));
  }
}

/**
 * The input gradient of a stride-(sh, sw) convolution, each window's patch gradient made in registers and
 * added at its place: dxp[b, r*sh + kh, q*sw + kw, c] += sum over o of dy[b, r, q, o] * wt[o, kh, kw*ci + c].
 * `wt` is the filter as [co, fh, run] with each row's run of fw*ci floats zero-padded to a multiple of 8;
 * `dxp` ([n, hp, wp, ci], plus 8 floats of slack) is the padded input's gradient, cropped by the caller.
 * Windows of 4 consecutive rows (same column) go together: their runs for one kh lie in different rows,
 * so no load waits on the store just before it.
 */
export function convBackpropInput(
  dy: usize, wt: usize, dxp: usize,
  n: i32, hp: i32, wp: i32, ci: i32, oh: i32, ow: i32, co: i32,
  fh: i32, run: i32, sh: i32, sw: i32,
): void {
  memory.fill(dxp, 0, ((<usize>n * <usize>hp * <usize>wp * <usize>ci) + 8) << 2);
  const oStep = <usize>(fh * run) << 2;
  const rowStep = <usize>(sh * wp * ci) << 2;
  const pixelStep = <usize>(ow * co) << 2;
  const oh4 = oh & ~3;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r += r < oh4 ? 4 : 1) {
      const four = r < oh4;
      for (let q = 0; q < ow; q++) {
        const pd = dy + ((<usize>((b * oh + r) * ow + q) * <usize>co) << 2);
        for (let kh = 0; kh < fh; kh++) {
          const dst = dxp + ((<usize>((b * hp + r * sh + kh) * wp + q * sw) * <usize>ci) << 2);
          const pw0 = wt + ((<usize>(kh * run)) << 2);
          for (let seg = 0; seg < run; seg += 8) {
            const at = <usize>seg << 2;
            let pw = pw0 + at;
            if (four) {
              let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
              for (let o = 0; o < co; o++, pw += oStep) {
                const w0 = v128.load(pw);
                const w1 = v128.load(pw, 16);
                const po = pd + (<usize>o << 2);
                let v = v128.load32_splat(po);
                a00 = f32x4.add(a00, f32x4.mul(v, w0));
                a01 = f32x4.add(a01, f32x4.mul(v, w1));
                v = v128.load32_splat(po + pixelStep);
                a10 = f32x4.add(a10, f32x4.mul(v, w0));
                a11 = f32x4.add(a11, f32x4.mul(v, w1));
                v = v128.load32_splat(po + 2 * pixelStep);
                a20 = f32x4.add(a20, f32x4.mul(v, w0));
                a21 = f32x4.add(a21, f32x4.mul(v, w1));
                v = v128.load32_splat(po + 3 * pixelStep);
                a30 = f32x4.add(a30, f32x4.mul(v, w0));
                a31 = f32x4.add(a31, f32x4.mul(v, w1));
              }
              addPair(dst + at, a00, a01);
              addPair(dst + rowStep + at, a10, a11);
              addPair(dst + 2 * rowStep + at, a20, a21);
              addPair(dst + 3 * rowStep + at, a30, a31);
            } else {
              let a0 = f32x4.splat(0), a1 = a0;
              for (let o = 0; o < co; o++, pw += oStep) {
                const v = v128.load32_splat(pd + (<usize>o << 2));
                a0 = f32x4.add(a0, f32x4.mul(v, v128.load(pw)));
                a1 = f32x4.add(a1, f32x4.mul(v, v128.load(pw, 16)));
              }
              addPair(dst + at, a0, a1);
            }
          }
        }
      }
    }
  }
}

// @ts-ignore: AssemblyScript decorator
@inline function addPair(at: usize, lo: v128, hi: v128): void {
  v128.store(at, f32x4.add(v128.load(at), lo));
  v128.store(at, f32x4.add(v128.load(at, 16), hi), 16);
}

/** dst[b, i, j, :] = src[b, i + top, j + left, :] for the h x w cells of dst (src is [n, hs, ws, c]). */
export function crop(src: usize, dst: usize, n: i32, hs: i32, ws: i32, h: i32, w: i32, c: i32, top: i32, left: i32): void {
  const rowBytes = <usize>(w * c) << 2;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      memory.copy(
        dst + ((<usize>((b * h + i) * w) * <usize>c) << 2),
        src + ((<usize>((b * hs + i + top) * ws + left) * <usize>c) << 2),
        rowBytes,
      );
    }
  }
}

/**
 * Minimum, maximum, sum (in float64) and count of zeros of `size` floats, written to `out` as 4 float64.
 * NaN is skipped by the minimum and maximum (b < a ? b : a) and makes the sum NaN, as a plain loop does.
 */
export function summarize(x: usize, size: i32, out: usize): void {
  let lo = f32x4.splat(Infinity);
  let hi = f32x4.splat(-Infinity);
  let sumLo = f64x2.splat(0);
  let sumHi = f64x2.splat(0);
  let zeros = i32x4.splat(0);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    lo = f32x4.pmin(lo, v);
    hi = f32x4.pmax(hi, v);
    sumLo = f64x2.add(sumLo, f64x2.promote_low_f32x4(v));
    sumHi = f64x2.add(sumHi, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    zeros = i32x4.sub(zeros, f32x4.eq(v, zero));
  }
  let min = min4(lo);
  let max = max4(hi);
  let sum = f64x2.extract_lane(sumLo, 0) + f64x2.extract_lane(sumLo, 1) + f64x2.extract_lane(sumHi, 0) + f64x2.extract_lane(sumHi, 1);
  let z = i32x4.extract_lane(zeros, 0) + i32x4.extract_lane(zeros, 1) + i32x4.extract_lane(zeros, 2) + i32x4.extract_lane(zeros, 3);
  for (; i < size; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v < min) min = v;
    if (v > max) max = v;
    sum += <f64>v;
    if (v == 0) z++;
  }
  store<f64>(out, <f64>min);
  store<f64>(out, <f64>max, 8);
  store<f64>(out, sum, 16);
  store<f64>(out, <f64>z, 24);
}

// @ts-ignore: AssemblyScript decorator
@inline function min4(v: v128): f32 {
  const a = f32x4.extract_lane(v, 0), b = f32x4.extract_lane(v, 1), c = f32x4.extract_lane(v, 2), d = f32x4.extract_lane(v, 3);
  const ab = b < a ? b : a;
  const cd = d < c ? d : c;
  return cd < ab ? cd : ab;
}

// @ts-ignore: AssemblyScript decorator
@inline function max4(v: v128): f32 {
  const a = f32x4.extract_lane(v, 0), b = f32x4.extract_lane(v, 1), c = f32x4.extract_lane(v, 2), d = f32x4.extract_lane(v, 3);
  const ab = b > a ? b : a;
  const cd = d > c ? d : c;
  return cd > ab ? cd : ab;
}

/** alive[j] = 1 where some position of channel j (of `c`) in `size` floats is above 0, else 0 (i32 each). */
export function positiveChannels(x: usize, size: i32, c: i32, alive: usize): void {
  memory.fill(alive, 0, <usize>c << 2);
  const zero = f32x4.splat(0);
  const c4 = c & ~3;
  for (let p = 0; p < size; p += c) {
    const row = x + (<usize>p << 2);
    let j = 0;
    for (; j < c4; j += 4) {
      const at = alive + (<usize>j << 2);
      v128.store(at, v128.or(v128.load(at), f32x4.gt(v128.load(row + (<usize>j << 2)), zero)));
    }
    for (; j < c; j++) {
      if (load<f32>(row + (<usize>j << 2)) > 0) store<i32>(alive + (<usize>j << 2), -1);
    }
  }
}
