// The renderer's build: root is this folder, output goes to out/renderer (served by `convscope serve`
// and loaded by Electron). No inline scripts and no eval, so a strict CSP holds.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [svelte({ compilerOptions: { css: 'external' } })],
  build: {
    outDir: here('../out/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // Module preload polyfill is an inline script: leave it out for the CSP.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: { port: 5173, strictPort: false },
});
