import { describe, expect, it } from 'vitest';
import { compactForClone, decodeFrame, decodePacket, encodeFrame, encodePacket, EnvelopeError, FrameError, transferList } from '../../src-main/contract';

function roundTrip(value: unknown): unknown {
  const frame = encodeFrame(encodePacket(value));
  // Through bytes, as a WebSocket delivers them: an ArrayBuffer copy of the frame.
  const wire = typeof frame === 'string' ? frame : frame.slice().buffer;
  return decodePacket(decodeFrame(wire));
}

describe('envelope', () => {
  it('takes typed arrays out of the JSON and puts them back bit-exact', () => {
    const weird = new Float32Array([1.5, -0, Number.NaN, Infinity, 3.4028234663852886e38, 1e-45]);
    const bits = new Uint32Array(weird.buffer.slice(0));
    const message = { a: { w: weird, i: new Int32Array([-1, 2 ** 31 - 1]), u: new Uint8Array([0, 255]) }, list: [new Uint32Array([7])] };
    const packet = encodePacket(message);
    expect(JSON.stringify(packet.meta)).not.toMatch(/1\.5/);
    expect(packet.buffers).toHaveLength(4);
    const back = roundTrip(message) as typeof message;
    expect(back.a.w).toBeInstanceOf(Float32Array);
    expect(new Uint32Array(back.a.w.buffer, back.a.w.byteOffset, back.a.w.length)).toEqual(bits);
    expect(back.a.i).toEqual(new Int32Array([-1, 2 ** 31 - 1]));
    expect(back.a.u).toEqual(new Uint8Array([0, 255]));
    expect(back.list[0]).toEqual(new Uint32Array([7]));
  });

  it('sends only the viewed part of a larger buffer', () => {
    const big = new Float32Array(1000).map((_, i) => i);
    const view = big.subarray(10, 13);
    const packet = encodePacket({ view });
    expect(packet.buffers[0].byteLength).toBe(12);
    expect(roundTrip({ view })).toEqual({ view: new Float32Array([10, 11, 12]) });
    const compact = compactForClone(packet);
    expect(compact.buffers[0].buffer.byteLength).toBe(12);
    expect(transferList(compact)).toEqual([compact.buffers[0].buffer]);
    // Not transferable as it stands: it would move the whole 4000-byte buffer.
    expect(transferList(packet)).toEqual([]);
  });

  it('carries NaN and infinities as numbers on every transport', () => {
    const back = roundTrip({ loss: Number.NaN, eta: Infinity, low: -Infinity, fine: 0.25 }) as Record<string, number>;
    expect(back.loss).toBeNaN();
    expect(back.eta).toBe(Infinity);
    expect(back.low).toBe(-Infinity);
    expect(back.fine).toBe(0.25);
  });

  it("keeps the data's own '$' keys and __proto__ keys as plain keys", () => {
    const overrides = JSON.parse('{"$bin": 0, "$type": "Float32Array", "$$x": 1, "__proto__": {"polluted": true}}');
    const back = roundTrip({ overrides }) as { overrides: Record<string, unknown> };
    expect(Object.keys(back.overrides).sort()).toEqual(['$$x', '$bin', '$type', '__proto__']);
    expect(back.overrides.$bin).toBe(0);
    expect(Object.getPrototypeOf(back.overrides)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('copies unaligned buffers instead of failing', () => {
    const frame = encodeFrame(encodePacket({ x: new Float64Array([Math.PI, Math.E]) })) as Uint8Array;
    const shifted = new Uint8Array(frame.byteLength + 1);
    shifted.set(frame, 1);
    const back = decodePacket(decodeFrame(shifted.subarray(1))) as { x: Float64Array };
    expect(back.x).toEqual(new Float64Array([Math.PI, Math.E]));
  });

  it('refuses what it cannot carry, and forged placeholders', () => {
    expect(() => encodePacket({ when: new Date() })).toThrow(EnvelopeError);
    expect(() => encodePacket({ f: () => 1 })).toThrow(/function/);
    expect(() => encodePacket({ n: 1n })).toThrow(/bigint/);
    expect(() => decodePacket({ meta: { $bin: 3, $type: 'Float32Array' }, buffers: [] })).toThrow(/names no buffer/);
    expect(() => decodePacket({ meta: { $bin: 0, $type: 'Float32Array' }, buffers: [new Uint8Array(3)] })).toThrow(/whole number/);
    expect(() => decodePacket({ meta: { $bin: 0, $type: 'Function' }, buffers: [new Uint8Array(4)] })).toThrow(/unknown array type/);
    expect(() => decodePacket({ meta: [{ $bin: 0, $type: 'Uint8Array' }, { $bin: 0, $type: 'Uint8Array' }], buffers: [new Uint8Array(4)] })).toThrow(/twice/);
    expect(() => decodePacket({ meta: { $evil: 1 }, buffers: [] })).toThrow(/unexpected key/);
    let deep: unknown = 1;
    for (let i = 0; i < 500; i++) deep = [deep];
    expect(() => decodePacket({ meta: deep, buffers: [] })).toThrow(/nested deeper/);
  });
});

describe('frames', () => {
  it('uses a text frame without buffers and an 8-byte aligned binary frame with them', () => {
    expect(typeof encodeFrame(encodePacket({ kind: 'cancel', id: 3 }))).toBe('string');
    const frame = encodeFrame(encodePacket({ a: new Uint8Array([1, 2, 3]), b: new Float64Array([1]) })) as Uint8Array;
    const packet = decodeFrame(frame);
    for (const b of packet.buffers) expect(b.byteOffset % 8).toBe(0);
    expect([...packet.buffers[0]]).toEqual([1, 2, 3]);
  });

  it('rejects truncated or malformed frames with a FrameError', () => {
    const frame = encodeFrame(encodePacket({ a: new Float32Array(16) })) as Uint8Array;
    expect(() => decodeFrame(frame.subarray(0, frame.byteLength - 8))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([1, 0]))).toThrow(FrameError);
    expect(() => decodeFrame('{not json')).toThrow(FrameError);
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint32(0, 4, true);
    bad.set([0xff, 0xfe, 0xfd, 0xfc], 4);
    expect(() => decodeFrame(bad)).toThrow(/UTF-8/);
  });
});
