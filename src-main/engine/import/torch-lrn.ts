// torch 1.13 exports nn.LocalResponseNorm (F.local_response_norm) not as an ONNX LRN node but as its
// definition, for a 4-D input x [N, C, H, W] and size n:
//   s = Mul(x, x) -> Unsqueeze(axis 1) -> Reshape([N, 1, C, H, -1]) -> Pad(channels: n/2 before, (n-1)/2 after)
//       [-> an all-zero Pad] -> AveragePool(kernel [n, 1, 1], stride 1)
//       -> Squeeze(axis 1)  (opsets 11+: If(Shape(.)[1] == 1) then Squeeze(axis 1) else Identity)
//       -> Reshape([N, C, H, W]) -> Mul(alpha) -> Add(k) -> Pow(beta);   y = Div(x, that)
// i.e. y = x / (k + alpha/n * sum of x^2 over n channels, zeros past the edges)^beta, which is Caffe's LRN.
// The side computations (the reshape targets, the pads) differ with the opset and constant folding; they are
// folded like any shape arithmetic and their values checked here. This module finds the chain from its first
// Mul (the structure: ops and wiring) and, once the lowering has folded the side computations, checks every
// value. Anything else is refused in one line naming the node where it departs from the definition.
import { lrnFromCaffe, type LrnParams } from '../models/layers/lrn';
import { UnsupportedModelError } from './errors';
import { elementCount, float32Value, floats, tensorAttr, type ConstTensor, type IntElement, type IrGraph, type IrNode, type IrSubgraph } from './ir';

/** Ops that appear only inside the chain (besides Mul, Reshape, Pad, AveragePool, Squeeze). */
export const TORCH_LRN_OPS = ['Pow', 'Div', 'If', 'Equal'] as const;

export interface TorchLrnChain {
  /** Mul(x, x), where the chain starts. */
  square: IrNode;
  unsqueeze: IrNode;
  toFiveD: IrNode;
  pads: IrNode[];
  pool: IrNode;
  /** Squeeze(axis 1), or the If (with the Shape, Gather and Equal feeding its condition) that wraps it. */
  squeeze: { kind: 'squeeze'; node: IrNode } | { kind: 'if'; shape: IrNode; gather: IrNode; equal: IrNode; node: IrNode };
  toFourD: IrNode;
  scale: IrNode;
  offset: IrNode;
  power: IrNode;
  /** Div(x, ...): the chain's output. */
  div: IrNode;
  /** Every node above (side computations of shapes excluded: they fold to constants). */
  nodes: Set<IrNode>;
}

export interface TorchLrn {
  params: LrnParams;
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** Value name -> the nodes that read it (an If reads what its branches use from outside). */
export type Consumers = Map<string, IrNode[]>;

export function consumersOf(graph: IrGraph): Consumers {
  const consumers: Consumers = new Map();
  const add = (name: string, node: IrNode) => {
    const list = consumers.get(name) ?? [];
    if (!list.includes(node)) list.push(node);
    consumers.set(name, list);
  };
  for (const node of graph.nodes) {
    for (const i of node.inputs) if (i) add(i, node);
    for (const name of outerNames(node)) add(name, node);
  }
  return consumers;
}

/** Names a node's subgraphs read from outside themselves. */
function outerNames(node: IrNode): string[] {
  const names: string[] = [];
  for (const g of subgraphs(node)) {
    const local = new Set(g.nodes.flatMap((n) => n.outputs));
    for (const n of g.nodes) {
      for (const i of [...n.inputs, ...outerNames(n)]) if (i && !local.has(i)) names.push(i);
    }
    for (const o of g.outputs) if (!local.has(o)) names.push(o);
  }
  return names;
}

function subgraphs(node: IrNode): IrSubgraph[] {
  return Object.values(node.attrs).filter((a): a is IrSubgraph => typeof a === 'object' && !Array.isArray(a) && a.kind === 'graph');
}

/** Whether a Mul node squares one value: the start of the chain (a tensor Mul is supported nowhere else). */
export function isSquare(node: IrNode): boolean {
  return node.op === 'Mul' && node.inputs.length === 2 && node.inputs[0] !== '' && node.inputs[0] === node.inputs[1];
}

/** The chain's structure from Mul(x, x) to Div(x, ...): ops and wiring. Throws naming the node that differs. */
export function matchTorchLrn(square: IrNode, consumers: Consumers, graphOutput: string): TorchLrnChain {
  const fail = chainFailure(square);
  const x = square.inputs[0];
  const next = (from: IrNode, ops: string[]): IrNode => {
    const value = from.outputs[0];
    const readers = consumers.get(value) ?? [];
    if (value === graphOutput || readers.length !== 1) {
      fail(from, `its output ${value} is read by ${value === graphOutput ? 'the graph output' : readers.length === 0 ? 'no node' : `${readers.length} nodes (${readers.map((r) => r.op).join(', ')})`}, where only ${ops.join(' or ')} should read it`);
    }
    const reader = readers[0];
    if (!ops.includes(reader.op)) fail(reader, `found where ${ops.join(' or ')} should read ${value}`);
    if (reader.inputs[0] !== value) fail(reader, `it reads ${value} as its input #${reader.inputs.indexOf(value)}, not #0`);
    return reader;
  };
  const unsqueeze = next(square, ['Unsqueeze']);
  const toFiveD = next(unsqueeze, ['Reshape']);
  const pads = [next(toFiveD, ['Pad'])];
  let after = next(pads[0], ['Pad', 'AveragePool']);
  if (after.op === 'Pad') {
    pads.push(after);
    after = next(after, ['AveragePool']);
  }
  const pool = after;

  const pooled = pool.outputs[0];
  const poolReaders = consumers.get(pooled) ?? [];
  let squeeze: TorchLrnChain['squeeze'];
  if (poolReaders.length === 1 && poolReaders[0].op === 'Squeeze' && pooled !== graphOutput) {
    squeeze = { kind: 'squeeze', node: next(pool, ['Squeeze']) };
  } else {
    const shape = poolReaders.find((r) => r.op === 'Shape');
    const branch = poolReaders.find((r) => r.op === 'If');
    if (!shape || !branch || poolReaders.length !== 2 || pooled === graphOutput) {
      return fail(pool, `its output is read by ${poolReaders.map((r) => `${r.op} ${r.name}`).join(', ') || 'no node'}, where only Squeeze (or an If choosing Squeeze by its Shape) should read it`);
    }
    const gather = next(shape, ['Gather']);
    const equal = next(gather, ['Equal']);
    const node = next(equal, ['If']);
    if (node !== branch) fail(node, `its condition comes from ${pooled}'s shape but its branches do not read ${pooled}`);
    squeeze = { kind: 'if', shape, gather, equal, node };
  }
  const toFourD = next(squeeze.node, ['Reshape']);
  const scale = binaryNext(toFourD, 'Mul');
  const offset = binaryNext(scale, 'Add');
  const power = next(offset, ['Pow']);
  const div = readerOf(power, 'Div');
  if (div.inputs[1] !== power.outputs[0] || div.inputs[0] !== x) fail(div, `it must divide ${x} (what Mul node ${square.name} squares) by ${power.outputs[0]}; it divides ${div.inputs[0]} by ${div.inputs[1]}`);

  const nodes = new Set([square, unsqueeze, toFiveD, ...pads, pool, squeeze.node, toFourD, scale, offset, power, div]);
  if (squeeze.kind === 'if') [squeeze.shape, squeeze.gather, squeeze.equal].forEach((n) => nodes.add(n));
  return { square, unsqueeze, toFiveD, pads, pool, squeeze, toFourD, scale, offset, power, div, nodes };

  /** The single reader of `from`'s output, of this op, reading it as either operand (Mul and Add commute). */
  function binaryNext(from: IrNode, op: string): IrNode {
    const reader = readerOf(from, op);
    if (reader.inputs.length !== 2) fail(reader, `it has ${reader.inputs.length} inputs, not 2`);
    return reader;
  }

  function readerOf(from: IrNode, op: string): IrNode {
    const value = from.outputs[0];
    const readers = consumers.get(value) ?? [];
    if (value === graphOutput || readers.length !== 1 || readers[0].op !== op) {
      fail(from, `its output ${value} is read by ${readers.map((r) => `${r.op} ${r.name}`).join(', ') || 'no node'}${value === graphOutput ? ' and the graph output' : ''}, where only ${op} should read it`);
    }
    return readers[0];
  }
}

export interface ChainValues {
  /** x's per-example shape (source order). */
  x: readonly number[];
  /** A folded constant by value name, or null when the value is not a constant. */
  constant(name: string): ConstTensor | null;
  opset: number;
  /** The batch the file fixes, if any (a constant reshape target may spell it). */
  batch?: number;
}

/** Checks every constant and attribute of a matched chain and reads its LRN constants. */
export function readTorchLrn(chain: TorchLrnChain, v: ChainValues): TorchLrn {
  const fail = chainFailure(chain.square);
  const { square, pool } = chain;
  if (v.x.length !== 3) fail(square, `LocalResponseNorm over a ${v.x.join('x')} tensor per example is not supported (only channels x height x width feature maps)`);
  const [c, h, w] = v.x;

  const intConst = (node: IrNode, index: number, what: string): IntElement[] => {
    const t = node.inputs[index] ? v.constant(node.inputs[index]) : null;
    if (!t || t.kind !== 'int') return fail(node, `its ${what} must be an integer constant`);
    return t.data;
  };
  const axes = (node: IrNode): IntElement[] => {
    const a = node.attrs.axes;
    if (Array.isArray(a)) return a;
    return v.opset >= 13 && node.inputs[1] ? intConst(node, 1, 'axes') : fail(node, 'it has no axes');
  };
  /** The float constant that a Mul or Add of the chain combines with the chain's value `prev`. */
  const scalar = (node: IrNode, prev: string, what: string): number => {
    const other = node.inputs[0] === prev ? node.inputs[1] : node.inputs[0];
    const t = other ? v.constant(other) : null;
    if (!t || t.kind !== 'float' || elementCount(t.dims) !== 1) return fail(node, `its ${what} must be one float constant`);
    return float32Value(floats(t)[0]);
  };
  const same = (got: readonly IntElement[], want: readonly IntElement[]) => got.length === want.length && got.every((g, i) => g === want[i]);
  const batchOk = (d: IntElement) => d === 'N' || d === 1 || (v.batch !== undefined && d === v.batch);

  if (!same(axes(chain.unsqueeze), [1])) fail(chain.unsqueeze, `its axes are ${axes(chain.unsqueeze).join(',')}, not 1`);

  const five = intConst(chain.toFiveD, 1, 'shape');
  if (!(five.length === 5 && batchOk(five[0]) && same(five.slice(1, 4), [1, c, h]) && (five[4] === w || five[4] === -1))) {
    fail(chain.toFiveD, `its shape ${five.join(',')} is not [batch, 1, ${c}, ${h}, ${w} or -1] for the ${c}x${h}x${w} input`);
  }

  // The channel axis (2 of 5) padded before and after; nothing else.
  const total = new Array<number>(10).fill(0);
  for (const pad of chain.pads) {
    if (pad.inputs[3]) fail(pad, 'its axes input is not supported (pads for every axis expected)');
    const mode = pad.attrs.mode ?? 'constant';
    if (mode !== 'constant') fail(pad, `its mode is ${String(mode)}, not constant`);
    const list = v.opset < 11 ? (Array.isArray(pad.attrs.pads) ? pad.attrs.pads : fail(pad, 'it has no pads')) : intConst(pad, 1, 'pads');
    if (list.length !== 10) fail(pad, `it has ${list.length} pads, not 10 (a 5-D tensor)`);
    list.forEach((p, i) => (total[i] += typeof p === 'number' ? p : fail(pad, 'its pads depend on the batch size')));
    if (!padsWithZero(pad, v)) fail(pad, 'it pads with a value other than 0');
  }

  const kernel = pool.attrs.kernel_shape;
  if (!Array.isArray(kernel) || kernel.length !== 3 || kernel[1] !== 1 || kernel[2] !== 1) return fail(pool, `its kernel ${Array.isArray(kernel) ? kernel.join('x') : '(none)'} is not n x 1 x 1`);
  const n = kernel[0];
  const ones = (a: unknown) => a === undefined || (Array.isArray(a) && a.every((s) => s === 1));
  const zeros = (a: unknown) => a === undefined || (Array.isArray(a) && a.every((s) => s === 0));
  if (!ones(pool.attrs.strides) || !ones(pool.attrs.dilations)) fail(pool, 'its strides and dilations must be 1');
  if (!zeros(pool.attrs.pads) || !(pool.attrs.auto_pad === undefined || pool.attrs.auto_pad === 'NOTSET') || !(pool.attrs.ceil_mode === undefined || pool.attrs.ceil_mode === 0)) {
    fail(pool, 'it must not pad (the Pad before it does) or round up');
  }
  const before = Math.floor(n / 2);
  const after = Math.floor((n - 1) / 2);
  const wanted = [0, 0, before, 0, 0, 0, 0, after, 0, 0];
  if (!same(total, wanted)) fail(chain.pads[0], `its pads ${total.join(',')} are not ${wanted.join(',')}, the window of the ${n}x1x1 AveragePool node ${pool.name}`);
  if (n % 2 === 0) fail(pool, `size ${n} is even: torch's window then spans ${before} channels before and ${after} after, and TensorFlow.js' LRN window is symmetric (odd sizes only)`);

  const sq = chain.squeeze;
  if (sq.kind === 'squeeze') {
    if (!same(axes(sq.node), [1])) fail(sq.node, `its axes are ${axes(sq.node).join(',')}, not 1`);
  } else {
    if (!same(intConst(sq.gather, 1, 'index'), [1]) || (sq.gather.attrs.axis ?? 0) !== 0) fail(sq.gather, 'it must pick dimension 1 of the shape');
    if (sq.equal.inputs[0] !== sq.gather.outputs[0] || !same(intConst(sq.equal, 1, 'right side'), [1])) fail(sq.equal, 'it must compare that dimension with 1');
    checkSqueezeBranches(sq.node, pool.outputs[0], fail);
  }

  const four = intConst(chain.toFourD, 1, 'shape');
  if (!(four.length === 4 && batchOk(four[0]) && same(four.slice(1), [c, h, w]))) fail(chain.toFourD, `its shape ${four.join(',')} is not [batch, ${c}, ${h}, ${w}]`);

  const alpha = scalar(chain.scale, chain.toFourD.outputs[0], 'other factor (alpha)');
  const k = scalar(chain.offset, chain.scale.outputs[0], 'other term (k)');
  const betaIn = chain.power.inputs[1] ? v.constant(chain.power.inputs[1]) : null;
  if (!betaIn || betaIn.kind !== 'float' || elementCount(betaIn.dims) !== 1) return fail(chain.power, 'its exponent beta must be one float constant');
  const beta = float32Value(floats(betaIn)[0]);
  return { params: lrnFromCaffe({ localSize: n, alpha, beta, k }), size: n, alpha, beta, k };
}

/** Pad's fill: an attribute before opset 11, an optional constant input after. */
function padsWithZero(pad: IrNode, v: ChainValues): boolean {
  if (v.opset < 11) return (pad.attrs.value ?? 0) === 0;
  if (!pad.inputs[2]) return true;
  const t = v.constant(pad.inputs[2]);
  if (t?.kind === 'float') return floats(t).every((f) => f === 0);
  return t?.kind === 'int' && t.data.every((d) => d === 0);
}

/** then: Squeeze(pooled, axis 1) (axes an attribute, or a Constant inside the branch); else: Identity(pooled). */
function checkSqueezeBranches(node: IrNode, pooled: string, fail: (node: IrNode, why: string) => never): void {
  const then = node.attrs.then_branch;
  const otherwise = node.attrs.else_branch;
  if (!isGraph(then) || !isGraph(otherwise)) return fail(node, 'it has no then and else branches');
  const squeezes = then.nodes.filter((n) => n.op === 'Squeeze');
  const consts = then.nodes.filter((n) => n.op === 'Constant');
  const sq = squeezes[0];
  if (squeezes.length !== 1 || squeezes.length + consts.length !== then.nodes.length || sq.inputs[0] !== pooled || then.outputs.length !== 1 || then.outputs[0] !== sq.outputs[0]) {
    return fail(node, `its then branch (${then.nodes.map((n) => n.op).join(', ')}) is not Squeeze(${pooled})`);
  }
  let axes: unknown = sq.attrs.axes;
  if (axes === undefined && sq.inputs[1]) {
    const value = tensorAttr(consts.find((n) => n.outputs[0] === sq.inputs[1])?.attrs.value);
    axes = value?.kind === 'int' ? value.data : undefined;
  }
  if (!(Array.isArray(axes) && axes.length === 1 && axes[0] === 1)) fail(node, 'its then branch must squeeze axis 1');
  const id = otherwise.nodes[0];
  if (node.outputs.length !== 1 || otherwise.nodes.length !== 1 || id.op !== 'Identity' || id.inputs[0] !== pooled || otherwise.outputs.length !== 1 || otherwise.outputs[0] !== id.outputs[0]) {
    fail(node, `its else branch (${otherwise.nodes.map((n) => n.op).join(', ')}) is not Identity(${pooled})`);
  }
}

function isGraph(a: unknown): a is IrSubgraph {
  return typeof a === 'object' && a !== null && !Array.isArray(a) && (a as { kind?: string }).kind === 'graph';
}

function chainFailure(square: IrNode): (node: IrNode, why: string) => never {
  return (node, why) => {
    throw new UnsupportedModelError(`${node.op} node ${node.name}: ${why} (reading Mul node ${square.name} onwards as torch's nn.LocalResponseNorm: x / (k + alpha/n * sum of x^2 over n channels)^beta)`);
  };
}
