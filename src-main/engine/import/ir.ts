// The importer's intermediate graph: ONNX-like nodes in the source's NCHW semantics, with weights kept as
// views of the file's bytes until the lowering converts them to tfjs layouts (one copy per weight).

/** Little-endian float32 values: a view of the file where possible. */
export interface FloatTensor {
  kind: 'float';
  dims: number[];
  /** Either typed floats or raw little-endian float32 bytes (any alignment). */
  data: Float32Array | Uint8Array;
}

/** 'N' stands for the batch size, which shape arithmetic carries along symbolically. */
export type IntElement = number | 'N';

/** Small integer tensors: shapes, axes, indices (what shape subgraphs compute). */
export interface IntTensor {
  kind: 'int';
  dims: number[];
  data: IntElement[];
}

export type ConstTensor = FloatTensor | IntTensor;

/** A graph-valued attribute (an If node's branches): its nodes and the names of its outputs. */
export interface IrSubgraph {
  kind: 'graph';
  nodes: IrNode[];
  outputs: string[];
}

export type AttrValue = number | number[] | string | ConstTensor | IrSubgraph;

export interface IrNode {
  /** ONNX op type, e.g. 'Conv', 'Gemm', 'LRN'; Caffe layers are translated into these. */
  op: string;
  /** The source's node or layer name (for messages and layer names). */
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface IrGraph {
  name: string;
  /** The one image input: its value name, [channels, height, width], and its batch size where the file fixes one. */
  input: { name: string; shape: [number, number, number]; batch?: number };
  output: string;
  nodes: IrNode[];
  /** Initializers and other constant values by name. */
  constants: Map<string, ConstTensor>;
  /** The ONNX default-domain opset the nodes follow (some attributes moved to inputs over versions). */
  opset: number;
}

/** An attribute holding a tensor (a Constant's value, ConstantOfShape's fill), or null. */
export function tensorAttr(v: AttrValue | undefined): ConstTensor | null {
  return typeof v === 'object' && !Array.isArray(v) && v.kind !== 'graph' ? v : null;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The values as Float32Array: the same memory when aligned, else one copy. */
export function floats(t: FloatTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  const b = t.data;
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  return new Float32Array(new Uint8Array(b).buffer); // Buffer#slice would be a view: copy explicitly
}

export function floatCount(t: FloatTensor): number {
  return t.data instanceof Float32Array ? t.data.length : t.data.byteLength / 4;
}

/** The shortest decimal that is the same float32: a float32 field holding 1e-4 reads as 9.99999974e-5 otherwise. */
export function float32Value(x: number): number {
  for (let p = 1; p < 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === Math.fround(x)) return d;
  }
  return x;
}
