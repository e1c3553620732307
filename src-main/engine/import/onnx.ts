// ONNX ModelProto bytes -> IrGraph. Weights stay views of the file's bytes (raw_data, packed float_data).
import protobuf from 'protobufjs';
import { ImportFileError, UnsupportedModelError } from './errors';
import { elementCount, float32Value, type AttrValue, type ConstTensor, type IrGraph, type IrNode } from './ir';
import { assertSupportedOps } from './lower';
import type { ExternalDataReader } from './external-data';
import { ONNX_DTYPE, onnxModelType } from './onnx-schema';

/** What the importer keeps of the file besides the graph. */
export interface OnnxModelInfo {
  producer: string;
  /** The file's metadata_props (key -> value). */
  metadata: Record<string, string>;
  irVersion: number;
  opset: number;
  graph: IrGraph;
}

type Long = { toNumber(): number };
type Num = number | Long | null | undefined;

const DTYPE_NAMES: Record<number, string> = { 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 8: 'string', 9: 'bool', 10: 'float16', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

/** `externalData` reads tensors kept outside the file; without it such a model is refused. */
export function readOnnx(bytes: Uint8Array, fileName: string, externalData?: ExternalDataReader): OnnxModelInfo {
  if (bytes.byteLength === 0) throw new ImportFileError(`${fileName} is empty`);
  let model: any; // protobufjs messages are untyped
  try {
    model = onnxModelType().decode(bytes);
  } catch (err) {
    throw new ImportFileError(`${fileName} is not a readable ONNX model (${(err as Error).message}; truncated or another format?)`);
  }
  const graph = model.graph;
  if (!graph || !Array.isArray(graph.node) || graph.node.length === 0 || !(toNum(model.ir_version) > 0)) {
    throw new ImportFileError(`${fileName} is not an ONNX model: it has no ir_version or no graph nodes`);
  }
  const opsetEntry = (model.opset_import as { domain: string; version: Num }[]).find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!opsetEntry) throw new ImportFileError(`${fileName} has no opset_import for the default ONNX domain (truncated file?)`);
  const opset = toNum(opsetEntry.version);

  // Unsupported operations first: a quantised model's uint8 weights would otherwise be the first complaint.
  assertSupportedOps((graph.node as any[]).map((n) => n.op_type));
  const constants = new Map<string, ConstTensor>();
  for (const t of graph.initializer) constants.set(t.name, readTensor(t, `initializer ${t.name}`, externalData));

  const inputs = (graph.input as any[]).filter((v) => !constants.has(v.name));
  if (inputs.length !== 1) {
    throw new UnsupportedModelError(`${fileName}: ConvScope imports models with one image input; this graph has ${inputs.length} (${inputs.map((v) => v.name).join(', ')})`);
  }
  const input = inputs[0];
  const dims = (input.type?.tensor_type?.shape?.dim ?? []) as { dim_value: Num; dim_param: string }[];
  const fixed = dims.map((d) => (d.dim_param ? null : toNum(d.dim_value)));
  if (fixed.length !== 4 || fixed.slice(1).some((d) => !(d !== null && d > 0))) {
    const shown = dims.map((d) => d.dim_param || String(toNum(d.dim_value))).join('x');
    throw new UnsupportedModelError(`${fileName}: input ${input.name} must be batch x channels x height x width with fixed channels, height and width; it is ${shown || 'unspecified'}`);
  }
  if (graph.output.length !== 1) {
    throw new UnsupportedModelError(`${fileName}: ConvScope imports models with one output; this graph has ${graph.output.length}`);
  }

  const nodes = readNodes(graph.node, fileName);

  return {
    producer: [model.producer_name, model.producer_version].filter(Boolean).join(' '),
    metadata: Object.fromEntries(((model.metadata_props ?? []) as { key: string; value: string }[]).map((e) => [e.key, e.value])),
    irVersion: toNum(model.ir_version),
    opset,
    graph: {
      name: graph.name || 'onnx',
      input: { name: input.name, shape: [fixed[1]!, fixed[2]!, fixed[3]!], ...(fixed[0] ? { batch: fixed[0] } : {}) },
      output: graph.output[0].name,
      nodes,
      constants,
      opset,
    },
  };
}

function readNodes(list: any[], fileName: string): IrNode[] {
  return list.map((n, i) => {
    if (n.domain && n.domain !== 'ai.onnx') throw new UnsupportedModelError(`${fileName}: node ${n.name || i} is ${n.domain}.${n.op_type}, outside the standard ONNX operators`);
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute) {
      const value = readAttribute(a, `${n.op_type} ${n.name || i} attribute ${a.name}`, fileName);
      if (value !== undefined) attrs[a.name] = value;
    }
    return { op: n.op_type, name: n.name || `${n.op_type}_${i}`, inputs: [...n.input], outputs: [...n.output], attrs };
  });
}

function readAttribute(a: any, where: string, fileName: string): AttrValue | undefined {
  switch (a.type) {
    case 1:
      return float32Value(a.f);
    case 2:
      return toNum(a.i);
    case 3:
      return new TextDecoder().decode(a.s);
    case 4:
      return readTensor(a.t, where);
    case 5:
      return { kind: 'graph', nodes: readNodes(a.g?.node ?? [], fileName), outputs: (a.g?.output ?? []).map((o: { name: string }) => o.name) };
    case 6:
      return (a.floats as number[]).map(float32Value);
    case 7:
      return (a.ints as Num[]).map(toNum);
    default:
      return undefined; // string lists, graph lists...: no supported op reads them
  }
}

function readTensor(t: any, where: string, externalData?: ExternalDataReader): ConstTensor {
  const external = t.data_location === 1 || t.external_data?.length > 0;
  if (external && !externalData) {
    throw new UnsupportedModelError(`${where} keeps its values in an external file; import the .onnx file itself (its data file beside it)`);
  }
  const dims = (t.dims as Num[]).map(toNum);
  const count = elementCount(dims);
  const raw: Uint8Array | undefined = external ? readExternal(t, where, externalData!) : t.raw_data?.byteLength ? t.raw_data : undefined;
  const sizeError = (held: number) => new ImportFileError(`${where}: its dims ${dims.join('x')} need ${count} values but the file holds ${held} (truncated or corrupt)`);
  switch (t.data_type) {
    case ONNX_DTYPE.FLOAT: {
      const bytes: Uint8Array | undefined = raw ?? (t.float_data?.byteLength ? t.float_data : undefined);
      const held = (bytes?.byteLength ?? 0) / 4;
      if (held !== count) throw sizeError(held);
      return { kind: 'float', dims, data: bytes ?? new Float32Array(0) };
    }
    case ONNX_DTYPE.DOUBLE: {
      const bytes: Uint8Array | undefined = raw ?? (t.double_data?.byteLength ? t.double_data : undefined);
      const held = (bytes?.byteLength ?? 0) / 8;
      if (held !== count) throw sizeError(held);
      const view = new DataView(bytes!.buffer, bytes!.byteOffset, bytes!.byteLength);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(8 * i, true);
      return { kind: 'float', dims, data };
    }
    case ONNX_DTYPE.INT64: {
      let data: number[];
      if (raw) {
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        data = Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
      } else data = (t.int64_data as Num[]).map(toNum);
      if (data.length !== count) throw sizeError(data.length);
      return { kind: 'int', dims, data };
    }
    case ONNX_DTYPE.INT32: {
      let data: number[];
      if (raw) {
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        data = Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getInt32(4 * i, true));
      } else data = t.int32_data?.byteLength ? varints(t.int32_data) : [];
      if (data.length !== count) throw sizeError(data.length);
      return { kind: 'int', dims, data };
    }
    default:
      throw new UnsupportedModelError(`${where} has element type ${DTYPE_NAMES[t.data_type] ?? t.data_type}; ConvScope reads float32, float64, int32 and int64 tensors`);
  }
}

/** An external tensor's bytes (raw little-endian, as raw_data): its entries name the file, offset and length. */
function readExternal(t: any, where: string, read: ExternalDataReader): Uint8Array {
  const entries = new Map<string, string>((t.external_data as { key: string; value: string }[]).map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) throw new ImportFileError(`${where} keeps its values in an external file but names none (no 'location')`);
  const int = (key: string): number | null => {
    const v = entries.get(key);
    if (v === undefined) return null;
    if (!/^\d+$/.test(v)) throw new ImportFileError(`${where}: its external data ${key} '${v}' is not a whole number`);
    return Number(v);
  };
  return read({ location, offset: int('offset') ?? 0, length: int('length') }, where);
}

/** A packed repeated int32 field's payload. */
function varints(bytes: Uint8Array): number[] {
  const reader = protobuf.Reader.create(bytes);
  const out: number[] = [];
  while (reader.pos < reader.len) out.push(reader.int32());
  return out;
}

function toNum(v: Num): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}
