// The window's security settings in one place: web preferences, the renderer's Content Security Policy,
// navigation and pop-up blocking, permission refusal, and the check every IPC message's sender passes.
import type { IpcMainEvent, IpcMainInvokeEvent, Session, WebContents, WebPreferences } from 'electron';

/** The renderer's origin in a packaged app (served by app-protocol.ts). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://convscope`;
export const ORIGIN_ARG = '--convscope-origin=';

/**
 * No 'wasm-unsafe-eval': the renderer runs no WebAssembly (the engine runs in a utility process). Inline
 * styles stay allowed for Svelte's style: directives; scripts only from the app itself.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "frame-src 'none'",
].join('; ');

export function windowWebPreferences(preload: string, appOrigin: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    // The preload only serves a page from this origin.
    additionalArguments: [`${ORIGIN_ARG}${appOrigin}`],
  };
}

/** scheme://host of a URL ('null' for one that does not parse). Node's URL reports custom schemes' origin as 'null'. */
export function originOf(url: string): string {
  try {
    const u = new URL(url);
    return u.host ? `${u.protocol}//${u.host}` : 'null';
  } catch {
    return 'null';
  }
}

/** Every navigation away, every pop-up, every webview: refused. */
export function guardNavigation(contents: WebContents, onBlocked: (what: string, url: string) => void = () => {}): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    onBlocked('navigation', event.url);
  });
  // Also fired for subframes; loads the app starts itself (loadURL) fire neither event.
  contents.on('will-frame-navigate', (event) => {
    event.preventDefault();
    onBlocked('frame navigation', event.url);
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    onBlocked('redirect', event.url);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    onBlocked('webview', '');
  });
  contents.setWindowOpenHandler((details) => {
    onBlocked('window.open', details.url);
    return { action: 'deny' };
  });
}

/** No camera, microphone, notifications, geolocation ... the app needs none. */
export function denyPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** The CSP as a response header on every page the session loads (the dev server's too). */
export function enforceCsp(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
}

/** True only for a message from the main frame of our window, showing a page of our origin. */
export function isTrustedSender(event: IpcMainEvent | IpcMainInvokeEvent, contents: WebContents | null, appOrigin: string): boolean {
  if (!contents || event.sender !== contents) return false;
  const frame = event.senderFrame;
  if (!frame || frame !== contents.mainFrame) return false;
  return originOf(frame.url) === appOrigin;
}
