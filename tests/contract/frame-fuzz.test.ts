// The receiving side's frame reader against hostile input: random frames, mutations of valid ones and
// pathological shapes (bounded: a few thousand frames, under a second). It must never throw, and must
// answer every frame with either a checked message or an invalid-request error naming what it could read.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { ClientMessageSchema, decodeIncoming, encodeFrame, encodePacket, readClientMessage, type FrameLimits } from '../../src-main/contract';

const LIMITS: FrameLimits = { maxJsonLength: 4096, maxBuffers: 4 };

function rng(seed: number) {
  let s = seed;
  const next = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] };
}

const ATOMS = [null, 0, -1, 1.5, 2 ** 53, 1e308, '', '$bin', '$num', 'request', 'cancel', 'NaN', true, false];
const KEYS = ['kind', 'id', 'method', 'params', '$bin', '$type', '$num', '$$x', '__proto__', 'constructor', 'm', 'b', 'image', 'data'];

function randomValue(r: ReturnType<typeof rng>, depth: number): unknown {
  const roll = r.int(depth > 4 ? 1 : 4);
  if (roll === 0) return r.pick(ATOMS);
  if (roll === 1) return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = r.int(5); i > 0; i--) Object.defineProperty(out, r.pick(KEYS), { value: randomValue(r, depth + 1), enumerable: true, configurable: true, writable: true });
  return out;
}

function binaryFrame(header: unknown, tail: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) ?? 'null');
  const frame = new Uint8Array(4 + json.length + tail.length);
  new DataView(frame.buffer).setUint32(0, json.length, true);
  frame.set(json, 4);
  frame.set(tail, 4 + json.length);
  return frame;
}

function expectAnswered(frame: unknown): void {
  const read = readClientMessage(decodeIncoming(frame, LIMITS));
  if (read.ok) {
    expect(v.is(ClientMessageSchema, read.message)).toBe(true);
  } else {
    expect(read.error.code).toBe('invalid-request');
    expect(read.id === null || Number.isFinite(read.id)).toBe(true);
    expect(read.error.message.length).toBeLessThan(500);
  }
}

describe('frame reader fuzz', () => {
  const valid = [
    encodeFrame(encodePacket({ kind: 'request', id: 3, method: 'inspect', params: { image: { kind: 'bytes', data: new Uint8Array(24).fill(7) }, model: { kind: 'zoo', id: 'lenet5', overrides: {} } } })),
    encodeFrame(encodePacket({ kind: 'request', id: 4, method: 'evaluate', params: { model: { kind: 'run', dir: '/runs/a' }, dataset: 'folder:~/ds' } })),
    encodeFrame(encodePacket({ kind: 'cancel', id: 4 })),
  ];

  it('answers random frames, random headers and mutated valid frames, and never throws', () => {
    const r = rng(2026);
    for (let i = 0; i < 4000; i++) {
      const kind = r.int(5);
      if (kind === 0) expectAnswered(Uint8Array.from({ length: r.int(96) }, () => r.int(256)));
      else if (kind === 1) expectAnswered(JSON.stringify(randomValue(r, 0)) ?? '');
      else if (kind === 2) expectAnswered(binaryFrame({ m: randomValue(r, 0), b: Array.from({ length: r.int(6) }, () => r.pick([0, 1, 8, -1, 1.5, 1e9, '8'])) }, new Uint8Array(r.int(40))));
      else {
        const base = r.pick(valid);
        const bytes = typeof base === 'string' ? new TextEncoder().encode(base) : Uint8Array.from(base);
        for (let m = 1 + r.int(4); m > 0; m--) bytes[r.int(bytes.length)] = r.int(256);
        const cut = kind === 4 ? bytes.subarray(0, r.int(bytes.length + 1)) : bytes;
        expectAnswered(typeof base === 'string' ? new TextDecoder().decode(cut) : cut);
      }
    }
  });

  it('answers pathological shapes: deep nesting, huge lengths, too many buffers, non-frames', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const deepRequest = `{"kind":"request","id":9,"method":"listModels","params":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`;
    const frames: unknown[] = [
      deep,
      '['.repeat(100_000),
      deepRequest,
      'x'.repeat(5000),
      binaryFrame({ m: { kind: 'request', id: 5 }, b: [0, 0, 0, 0, 0] }, new Uint8Array()),
      binaryFrame({ m: { kind: 'request', id: 6 }, b: [2 ** 40] }, new Uint8Array(8)),
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7b]),
      binaryFrame(null, new Uint8Array()),
      binaryFrame([1, 2], new Uint8Array()),
      new ArrayBuffer(3),
      { meta: null },
      undefined,
      42,
    ];
    for (const frame of frames) expectAnswered(frame);
    expect(readClientMessage(decodeIncoming(deepRequest, LIMITS))).toMatchObject({ ok: false, id: 9 });
    expect(readClientMessage(decodeIncoming(binaryFrame({ m: { kind: 'request', id: 5 }, b: [0, 0, 0, 0, 0] }, new Uint8Array()), LIMITS))).toMatchObject({ ok: false, id: 5, error: { message: expect.stringMatching(/more than 4 buffers/) } });
  });
});
