// Messages as JSON-able metadata plus binary buffers: every typed array (and ArrayBuffer) in a message
// is replaced by a placeholder {"$bin": index, "$type": "Float32Array"} pointing into `buffers`, so a
// WebSocket sends them as raw bytes and a MessagePort can transfer them. Non-finite numbers become
// {"$num": "NaN"} so every transport carries them alike (JSON has no NaN). Keys starting with '$' in
// the data are escaped with one more '$'.

export interface Packet {
  meta: unknown;
  buffers: Uint8Array[];
}

export class EnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;
const TYPED_ARRAY_NAMES = Object.keys(TYPED_ARRAYS) as TypedArrayName[];

const MAX_DEPTH = 128;

function typedArrayName(value: ArrayBufferView): TypedArrayName | null {
  // instanceof rather than constructor.name: a Node Buffer is a Uint8Array.
  for (const name of TYPED_ARRAY_NAMES) if (value instanceof TYPED_ARRAYS[name]) return name;
  return null;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so a '__proto__' key in the data stays a plain key.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function encodePacket(message: unknown): Packet {
  const buffers: Uint8Array[] = [];
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new EnvelopeError(`message nested deeper than ${MAX_DEPTH} levels`);
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : { $num: String(value) };
    if (typeof value !== 'object') throw new EnvelopeError(`cannot send a value of type ${typeof value}`);
    if (ArrayBuffer.isView(value)) {
      const name = typedArrayName(value);
      if (!name) throw new EnvelopeError(`cannot send a ${value.constructor.name}`);
      buffers.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return { $bin: buffers.length - 1, $type: name };
    }
    if (value instanceof ArrayBuffer) {
      buffers.push(new Uint8Array(value));
      return { $bin: buffers.length - 1, $type: 'ArrayBuffer' };
    }
    if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : walk(item, depth + 1)));
    if (!isPlainObject(value)) throw new EnvelopeError(`cannot send a ${value.constructor?.name ?? 'object'}`);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      setOwn(out, key.startsWith('$') ? `$${key}` : key, walk(item, depth + 1));
    }
    return out;
  };
  return { meta: walk(message, 0), buffers };
}

export function decodePacket(packet: Packet): unknown {
  const used = new Set<number>();
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new EnvelopeError(`message nested deeper than ${MAX_DEPTH} levels`);
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if ('$bin' in record) return binary(record, keys, packet.buffers, used);
    if ('$num' in record) {
      if (keys.length !== 1 || !['NaN', 'Infinity', '-Infinity'].includes(record.$num as string)) throw new EnvelopeError('malformed $num placeholder');
      return Number(record.$num);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      if (key.startsWith('$') && !key.startsWith('$$')) throw new EnvelopeError(`unexpected key '${key}'`);
      setOwn(out, key.startsWith('$') ? key.slice(1) : key, walk(record[key], depth + 1));
    }
    return out;
  };
  return walk(packet.meta, 0);
}

function binary(record: Record<string, unknown>, keys: string[], buffers: Uint8Array[], used: Set<number>): ArrayBuffer | AnyTypedArray {
  const index = record.$bin;
  const type = record.$type;
  if (keys.length !== 2 || typeof index !== 'number' || typeof type !== 'string') throw new EnvelopeError('malformed $bin placeholder');
  const bytes = buffers[index];
  if (!Number.isInteger(index) || !bytes) throw new EnvelopeError(`$bin ${index} names no buffer (the message has ${buffers.length})`);
  if (used.has(index)) throw new EnvelopeError(`buffer ${index} is used twice`);
  used.add(index);
  if (type === 'ArrayBuffer') return copyBytes(bytes).buffer as ArrayBuffer;
  if (!Object.prototype.hasOwnProperty.call(TYPED_ARRAYS, type)) throw new EnvelopeError(`unknown array type '${type}'`);
  const Ctor = TYPED_ARRAYS[type as TypedArrayName];
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) throw new EnvelopeError(`${bytes.byteLength} bytes are not a whole number of ${type} elements`);
  // A view where the bytes are aligned (frames pad to 8); a copy where they are not.
  const source = bytes.byteOffset % size === 0 ? bytes : copyBytes(bytes);
  return new (Ctor as Uint8ArrayConstructor)(source.buffer as ArrayBuffer, source.byteOffset, source.byteLength / size) as AnyTypedArray;
}

function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

export function isPacket(value: unknown): value is Packet {
  if (typeof value !== 'object' || value === null) return false;
  const { meta, buffers } = value as Partial<Packet>;
  return meta !== undefined && Array.isArray(buffers) && buffers.every((b) => b instanceof Uint8Array);
}

/**
 * The packet for structured cloning (MessagePort, process IPC): a view into part of a larger buffer is
 * copied out, since cloning a view copies its whole underlying buffer.
 */
export function compactForClone(packet: Packet): Packet {
  const buffers = packet.buffers.map((b) => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : copyBytes(b)));
  return { meta: packet.meta, buffers };
}

/** The distinct ArrayBuffers of a (compacted) packet, for a MessagePort transfer list. */
export function transferList(packet: Packet): ArrayBuffer[] {
  const list = new Set<ArrayBuffer>();
  for (const b of packet.buffers) {
    const buffer = b.buffer;
    if (buffer instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === buffer.byteLength) list.add(buffer);
  }
  return [...list];
}
