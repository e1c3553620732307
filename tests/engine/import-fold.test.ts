// Constant folding of the shape arithmetic exporters emit; torch's F.pad builds its pads list with
// ConstantOfShape, Reshape, a reversing Slice and Transpose (nn.LocalResponseNorm at opsets 11+).
import { describe, it, expect } from 'vitest';
import { foldNode, intTensor } from '../../src-main/engine/import/fold';
import type { AttrValue, ConstTensor, IrNode } from '../../src-main/engine/import/ir';

const node = (op: string, attrs: Record<string, AttrValue> = {}): IrNode => ({ op, name: `/t/${op}`, inputs: [], outputs: ['y'], attrs });
const ints = (...v: number[]) => intTensor([v.length], v);

describe('foldNode', () => {
  it("reproduces torch's pads for F.pad(x, (1, 2, 0, 0, 2, 1)) on a 5-D tensor: ONNX order (first axis first), begins then ends", () => {
    const opset = 11;
    const listed = ints(1, 2, 0, 0, 2, 1); // torch lists the last axis first: (W before, W after, H..., D...)
    const zeros = foldNode(node('ConstantOfShape', { value: intTensor([1], [0]) }), [ints(4)], opset);
    const all = foldNode(node('Concat', { axis: 0 }), [listed, zeros], opset);
    const pairs = foldNode(node('Reshape'), [all, ints(-1, 2)], opset);
    expect(pairs).toEqual(intTensor([5, 2], [1, 2, 0, 0, 2, 1, 0, 0, 0, 0]));
    const reversed = foldNode(node('Slice'), [pairs, ints(-1), ints(-9223372036854775807), ints(0), ints(-1)], opset);
    expect(reversed).toEqual(intTensor([5, 2], [0, 0, 0, 0, 2, 1, 0, 0, 1, 2]));
    const transposed = foldNode(node('Transpose', { perm: [1, 0] }), [reversed], opset);
    const pads = foldNode(node('Reshape'), [transposed, ints(-1)], opset) as ConstTensor;
    expect(pads).toEqual(intTensor([10], [0, 0, 2, 0, 1, 0, 0, 1, 0, 2]));
  });

  it('reads Slice starts/ends/axes/steps from inputs from opset 10 on (attributes before), clamping as ONNX does', () => {
    const data = ints(10, 11, 12, 13, 14);
    expect(foldNode(node('Slice'), [data, ints(1), ints(100)], 10)).toEqual(ints(11, 12, 13, 14));
    expect(foldNode(node('Slice'), [data, ints(-2), ints(0), ints(0), ints(-1)], 11)).toEqual(ints(13, 12, 11));
    expect(foldNode(node('Slice', { starts: [0], ends: [2] }), [data], 9)).toEqual(ints(10, 11));
    expect(() => foldNode(node('Slice'), [data, ints(0), ints(2), ints(0), ints(0)], 13)).toThrow(/^Slice node \/t\/Slice: its step must be a non-zero whole number$/);
  });

  it('refuses what it cannot fold in one line naming the node', () => {
    expect(() => foldNode(node('Reshape'), [ints(1, 2, 3), ints(2, -1)], 13)).toThrow(/^Reshape node \/t\/Reshape: cannot reshape 3 to 2x-1$/);
    expect(() => foldNode(node('ConstantOfShape'), [ints(1 << 20)], 13)).toThrow(/too large for shape arithmetic/);
    expect(() => foldNode(node('Transpose', { perm: [0, 0] }), [intTensor([1, 2], [1, 2])], 13)).toThrow(/its perm 0,0 does not fit a rank-2 tensor/);
  });
});
