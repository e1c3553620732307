// Constant folding for the small integer subgraphs that exporters emit to compute shapes
// (torch's x.view(x.size(0), -1) becomes Shape -> Gather -> Unsqueeze -> Concat -> Reshape).
import { UnsupportedModelError } from './errors';
import { type ConstTensor, type IntElement, type IntTensor, type IrNode } from './ir';

/** Ops this module evaluates when every input is a constant. */
export const FOLDABLE_OPS = new Set(['Constant', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Identity', 'Slice', 'Add', 'Sub', 'Mul', 'Div']);

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
  const intList = (i: number, attr: string, what: string): number[] | null => {
    if (opset < 13 || node.attrs[attr] !== undefined) {
      const a = node.attrs[attr];
      return Array.isArray(a) ? a : typeof a === 'number' ? [a] : null;
    }
    if (!inputs[i]) return null;
    return ints(i, what).data.map((v) => (v === 'N' ? fail(`${what} cannot depend on the batch size`) : v));
  };
  switch (node.op) {
    case 'Constant': {
      const value = node.attrs.value;
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
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
      if (t.dims.length !== 1) fail('only 1-D integer constants can be sliced here');
      const starts = intList(1, 'starts', 'starts') ?? fail('it has no starts');
      const ends = intList(2, 'ends', 'ends') ?? fail('it has no ends');
      const steps = opset >= 10 ? intList(4, 'steps', 'steps') : null;
      const step = steps?.[0] ?? 1;
      if (starts.length !== 1 || step !== 1) fail('only a single-axis slice with step 1 is supported');
      const n = t.data.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      const data = t.data.slice(clamp(starts[0]), clamp(ends[0]));
      return intTensor([data.length], data);
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
