// Electron builds with this repo's folders: main + the engine's utility process from src-main/app, the
// sandboxed preload as one CommonJS bundle, the renderer from src-renderer (its own vite config).
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import renderer from './src-renderer/vite.config';

const root = (p: string) => resolve(import.meta.dirname, p);

export default defineConfig({
  main: {
    build: {
      outDir: root('out/main'),
      // Native backends are optional and loaded at run time in try/catch: never bundled.
      externalizeDeps: { include: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] },
      rollupOptions: {
        input: { main: root('src-main/app/main.ts'), engine: root('src-main/app/engine-entry.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: root('out/preload'),
      // A sandboxed preload cannot require packages: valibot and the contract go into the bundle.
      externalizeDeps: false,
      rollupOptions: {
        input: { preload: root('src-main/app/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
      },
    },
  },
  renderer: {
    ...renderer,
    root: root('src-renderer'),
    build: {
      ...renderer.build,
      outDir: root('out/renderer'),
      rollupOptions: { input: root('src-renderer/index.html') },
    },
  },
});
