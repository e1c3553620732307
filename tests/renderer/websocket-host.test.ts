// The page's side of `convscope serve`: a refused token is final and said so; other closes reconnect.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOSE_TOKEN_REFUSED, CLOSE_TOO_SLOW } from '../../src-main/contract';
import { createWebSocketHost } from '../../src-renderer/src/host/websocket';

/** Stands in for the DOM WebSocket: records each one made, and lets the test close it with a code. */
class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  private readonly listeners = new Map<string, Set<(event: unknown) => void>>();
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  addEventListener(type: string, listener: (event: unknown) => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: (event: unknown) => void): void {
    this.listeners.get(type)?.delete(listener);
  }
  send(): void {}
  close(): void {}
  closeWith(code: number): void {
    this.readyState = 3;
    for (const listener of [...(this.listeners.get('close') ?? [])]) listener({ code });
  }
}

const page = { href: 'http://127.0.0.1:9/?token=abc', protocol: 'http:', host: '127.0.0.1:9' } as Location;

beforeEach(() => {
  FakeSocket.made = [];
  vi.useFakeTimers();
  vi.stubGlobal('WebSocket', FakeSocket);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function watch(): [string, string | undefined][] {
  const states: [string, string | undefined][] = [];
  createWebSocketHost(page).onConnection((state, detail) => states.push([state, detail]));
  return states;
}

describe('the web host client', () => {
  it('shows a refused token and does not retry', () => {
    const states = watch();
    expect(FakeSocket.made[0].url).toBe('ws://127.0.0.1:9/ws?token=abc');
    FakeSocket.made[0].closeWith(CLOSE_TOKEN_REFUSED);
    expect(states.at(-1)).toEqual(['closed', expect.stringMatching(/refused this page’s token/)]);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
  });

  it('reconnects after a lost connection, and after being dropped for reading too slowly, saying which', () => {
    const states = watch();
    FakeSocket.made[0].closeWith(1006);
    expect(states.at(-1)).toEqual(['reconnecting', 'connection lost; retrying in 0.3 s']);
    vi.advanceTimersByTime(250);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1].closeWith(CLOSE_TOO_SLOW);
    expect(states.at(-1)).toEqual(['reconnecting', expect.stringMatching(/too many replies unread; retrying/)]);
    vi.advanceTimersByTime(500);
    expect(FakeSocket.made).toHaveLength(3);
  });
});
