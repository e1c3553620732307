// Constant folding for the small integer subgraphs that exporters emit to compute shapes
// (torch's x.view(x.size(0), -1) becomes Shape -> Gather -> Unsqueeze -> Concat -> Reshape).
import { UnsupportedModelError } from './errors';
import { tensorAttr, type ConstTensor, type IntElement, type IntTensor, type IrNode } from './ir';

/** Ops this module evaluates when every input is a constant. */
export const FOLDABLE_OPS = new Set([
  'Constant', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Identity', 'Slice', 'Add', 'Sub', 'Mul', 'Div',
  // torch's F.pad builds its pads list with these (nn.LocalResponseNorm at opsets 11+).
  'ConstantOfShape', 'Transpose', 'Reshape',
]);

export function intTensor(dims: number[], data: IntElement[]): IntTensor {
  return { kind: 'int', dims, data };
}

/** Evaluates a node whose inputs are all constants (`inputs[i]` null for an omitted optional input). */
export function foldNode(node: IrNode, inputs: (ConstTensor | null)[], opset: number): ConstTensor {
  const fail = (why: string): never => {
    throw new UnsupportedModelError(`${node.op} node ${node.name}: ${why}`);
  };
  const ints = (i: number, what: string): IntTensor => {
    const t = inputs[i];
    if (!t || t.kind !== 'int') return fail(`its ${what} input must be an integer constant`);
    return t;
  };
  /** An attribute before `since` (13 for axes; Slice's moved at 10), an optional constant input after. */
  const intList = (i: number, attr: string, what: string, since = 13): number[] | null => {
    if (opset < since || node.attrs[attr] !== undefined) {
      const a = node.attrs[attr];
      return Array.isArray(a) ? a : typeof a === 'number' ? [a] : null;
    }
    if (!inputs[i]) return null;
    return ints(i, what).data.map((v) => (v === 'N' ? fail(`${what} cannot depend on the batch size`) : v));
  };
  switch (node.op) {
    case 'Constant': {
      const value = tensorAttr(node.attrs.value);
      if (value) return value;
      if (typeof node.attrs.value_int === 'number') return intTensor([], [node.attrs.value_int]);
      if (Array.isArray(node.attrs.value_ints)) return intTensor([node.attrs.value_ints.length], node.attrs.value_ints);
      if (typeof node.attrs.value_float === 'number') return { kind: 'float', dims: [], data: new Float32Array([node.attrs.value_float]) };
      return fail('it has no value this importer reads');
    }
    case 'Identity':
    case 'Cast':
      return inputs[0] ?? fail('it has no input');
    case 'Gather': {
      const data = ints(0, 'data');
      const idx = ints(1, 'indices');
      if ((node.attrs.axis ?? 0) !== 0 || data.dims.length !== 1) fail('only gathering from a 1-D shape is supported');
      const picked = idx.data.map((i) => {
        if (i === 'N') return fail('indices cannot depend on the batch size');
        const j = i < 0 ? i + data.data.length : i;
        return data.data[j] ?? fail(`index ${i} is outside 0..${data.data.length - 1}`);
      });
      return intTensor(idx.dims, picked);
    }
    case 'Unsqueeze': {
      const t = ints(0, 'data');
      const axes = intList(1, 'axes', 'axes') ?? fail('it has no axes');
      const dims = [...t.dims];
      for (const a of [...axes].map((a) => (a < 0 ? a + t.dims.length + axes.length : a)).sort((x, y) => x - y)) dims.splice(a, 0, 1);
      return intTensor(dims, t.data);
    }
    case 'Squeeze': {
      const t = ints(0, 'data');
      const axes = intList(1, 'axes', 'axes');
      const dims = t.dims.filter((d, i) => !(d === 1 && (axes === null || axes.some((a) => (a < 0 ? a + t.dims.length : a) === i))));
      return intTensor(dims, t.data);
    }
    case 'Concat': {
      const parts = inputs.map((_, i) => ints(i, `#${i}`));
      if (parts.some((p) => p.dims.length !== 1)) fail('only 1-D integer constants can be concatenated here');
      const data = parts.flatMap((p) => p.data);
      return intTensor([data.length], data);
    }
    case 'Slice': {
      const t = ints(0, 'data');
      const starts = intList(1, 'starts', 'starts', 10) ?? fail('it has no starts');
      const ends = intList(2, 'ends', 'ends', 10) ?? fail('it has no ends');
      const axes = intList(3, 'axes', 'axes', 10) ?? starts.map((_, i) => i);
      const steps = (opset >= 10 ? intList(4, 'steps', 'steps', 10) : null) ?? starts.map(() => 1);
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) fail('its starts, ends, axes and steps differ in length');
      let out = t;
      starts.forEach((start, i) => (out = sliceAxis(out, norm(axes[i], t.dims.length), start, ends[i], steps[i], fail)));
      return out;
    }
    case 'Transpose': {
      const t = ints(0, 'data');
      const perm = (node.attrs.perm as number[] | undefined) ?? t.dims.map((_, i) => t.dims.length - 1 - i);
      if (perm.length !== t.dims.length || [...perm].sort().some((p, i) => p !== i)) fail(`its perm ${perm.join(',')} does not fit a rank-${t.dims.length} tensor`);
      const dims = perm.map((p) => t.dims[p]);
      const srcStrides = strides(t.dims);
      const data = Array.from({ length: t.data.length }, (_, flat) => {
        let src = 0;
        unravel(flat, dims).forEach((c, i) => (src += c * srcStrides[perm[i]]));
        return t.data[src];
      });
      return intTensor(dims, data);
    }
    case 'Reshape': {
      const t = ints(0, 'data');
      const shape = ints(1, 'shape').data.map((d, i) => (d === 'N' ? fail('its shape cannot depend on the batch size') : d === 0 ? (t.dims[i] ?? fail('its shape copies a dimension the data lacks')) : d));
      const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      const dims = shape.map((d) => (d === -1 ? t.data.length / known : d));
      if (shape.filter((d) => d === -1).length > 1 || dims.some((d) => !(Number.isInteger(d) && d >= 0)) || dims.reduce((a, b) => a * b, 1) !== t.data.length) {
        fail(`cannot reshape ${t.dims.join('x') || 'a scalar'} to ${shape.join('x')}`);
      }
      return intTensor(dims, t.data);
    }
    case 'ConstantOfShape': {
      const dims = ints(0, 'shape').data.map((d) => (d === 'N' || d < 0 ? fail('its shape must be known whole numbers') : d));
      let fill = 0;
      if (node.attrs.value !== undefined) {
        const value = tensorAttr(node.attrs.value);
        if (value?.kind !== 'int' || value.data.length !== 1 || value.data[0] === 'N') return fail('only an integer fill value is supported');
        fill = value.data[0];
      }
      if (dims.reduce((a, b) => a * b, 1) > 1 << 16) fail(`its shape ${dims.join('x')} is too large for shape arithmetic`);
      return intTensor(dims, new Array<number>(dims.reduce((a, b) => a * b, 1)).fill(fill));
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const a = ints(0, 'first');
      const b = ints(1, 'second');
      const n = Math.max(a.data.length, b.data.length);
      if (!(a.data.length === n || a.data.length === 1) || !(b.data.length === n || b.data.length === 1)) fail('operands of different lengths');
      const at = (t: IntTensor, i: number) => t.data[t.data.length === 1 ? 0 : i];
      const data = Array.from({ length: n }, (_, i) => {
        const x = at(a, i);
        const y = at(b, i);
        if (x === 'N' || y === 'N') return fail('shape arithmetic on the batch size is not supported');
        return node.op === 'Add' ? x + y : node.op === 'Sub' ? x - y : node.op === 'Mul' ? x * y : Math.trunc(x / y);
      });
      return intTensor(a.data.length >= b.data.length ? a.dims : b.dims, data);
    }
    default:
      return fail('it cannot be folded into a constant');
  }
}

/** The ONNX Shape of a tensor whose per-example shape is known: ['N', ...shape]. */
export function shapeOf(shape: readonly number[]): IntTensor {
  return intTensor([shape.length + 1], ['N', ...shape]);
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function strides(dims: readonly number[]): number[] {
  const out = dims.map(() => 1);
  for (let i = dims.length - 2; i >= 0; i--) out[i] = out[i + 1] * dims[i + 1];
  return out;
}

function unravel(flat: number, dims: readonly number[]): number[] {
  const s = strides(dims);
  return dims.map((_, i) => Math.floor(flat / s[i]) % dims[i]);
}

/** ONNX Slice on one axis (negative steps walk backwards; starts and ends clamp as the operator defines). */
function sliceAxis(t: IntTensor, axis: number, start: number, end: number, step: number, fail: (why: string) => never): IntTensor {
  const n = t.dims[axis];
  if (n === undefined) return fail(`axis ${axis} is outside a rank-${t.dims.length} tensor`);
  if (!Number.isInteger(step) || step === 0) return fail('its step must be a non-zero whole number');
  const wrap = (v: number) => (v < 0 ? v + n : v);
  const [lo, hi] = step > 0 ? [0, n] : [-1, n - 1];
  const from = Math.min(Math.max(wrap(start), lo), hi);
  const to = Math.min(Math.max(wrap(end), lo), hi);
  const picked: number[] = [];
  for (let i = from; step > 0 ? i < to : i > to; i += step) picked.push(i);
  const dims = t.dims.map((d, i) => (i === axis ? picked.length : d));
  const inner = strides(t.dims)[axis];
  const outer = t.data.length / (n * inner);
  const data: IntElement[] = [];
  for (let o = 0; o < outer; o++) for (const i of picked) for (let j = 0; j < inner; j++) data.push(t.data[(o * n + i) * inner + j]);
  return intTensor(dims, data);
}
