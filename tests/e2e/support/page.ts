// Page helpers: dropping a file the way a user's drag does, switching views, timing a switch.
import type { Page } from 'playwright-core';

/** Drags a file over the window and drops it (synthetic DragEvents carrying a real File). */
export async function dropFile(page: Page, bytes: Buffer, name: string, type: string): Promise<void> {
  await page.evaluate(
    async ({ base64, name, type }) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], name, { type }));
      const fire = (kind: string) => document.body.dispatchEvent(new DragEvent(kind, { dataTransfer: dt, bubbles: true, cancelable: true }));
      fire('dragenter');
      fire('dragover');
      // The overlay is up while the file is held over the window.
      await new Promise((r) => requestAnimationFrame(r));
      if (!document.querySelector('[data-testid="drop-zone"]')) throw new Error('no drop zone while dragging');
      fire('drop');
    },
    { base64: bytes.toString('base64'), name, type },
  );
}

/** Presses the view's number key and returns how long until its panel showed (ms, measured in the page). */
export async function switchView(page: Page, key: string, panelId: string): Promise<number> {
  return page.evaluate(
    ({ key, panelId }) =>
      new Promise<number>((resolve) => {
        const panel = document.getElementById(panelId)!;
        const t0 = performance.now();
        window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
        const check = () => (panel.hidden ? requestAnimationFrame(check) : requestAnimationFrame(() => resolve(performance.now() - t0)));
        check();
      }),
    { key, panelId },
  );
}
