// Holds back the engine's replies to one request method for a while, between the page and the web host
// (Playwright's WebSocket routing), so a view's race with a slow reply shows every time, not by chance.
import type { Page } from 'playwright-core';
import { decodeFrame } from '../../../src-main/contract/frame';

export interface SlowReplies {
  /** The method whose replies are held back; null: none. */
  method: string | null;
  delayMs: number;
}

function metaOf(message: string | Buffer): { kind?: unknown; id?: unknown; method?: unknown } | null {
  try {
    const meta = decodeFrame(message).meta;
    return typeof meta === 'object' && meta !== null ? (meta as { kind?: unknown; id?: unknown; method?: unknown }) : null;
  } catch {
    return null;
  }
}

/** Routes the page's WebSockets through a relay that delays the replies `control` names (read at each request). */
export async function delayReplies(page: Page, control: SlowReplies): Promise<void> {
  await page.routeWebSocket(/./, (ws) => {
    const server = ws.connectToServer();
    const held = new Map<number, number>();
    ws.onMessage((message) => {
      const meta = metaOf(message);
      if (control.method !== null && meta?.kind === 'request' && meta.method === control.method && typeof meta.id === 'number') held.set(meta.id, control.delayMs);
      server.send(message);
    });
    server.onMessage((message) => {
      const meta = metaOf(message);
      const delay = typeof meta?.id === 'number' ? held.get(meta.id) : undefined;
      if (delay === undefined) return ws.send(message);
      held.delete(meta!.id as number);
      setTimeout(() => ws.send(message), delay);
    });
  });
}
