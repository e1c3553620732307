import { defineConfig } from 'vitest/config';

// Separate from the renderer's vite config, whose root is src-renderer/ (vitest would find no tests there).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './tests/support/closing-line-reporter.ts'],
    testTimeout: 60_000,
    // Model size checks compare against this instead of the machine's free memory, so no test depends on
    // what else runs; tests of the limit set their own (child processes inherit it).
    // The wasm backend on one thread: two test files run at once on two cores, and a thread pool per
    // process would oversubscribe them (a pool waits for its slowest thread). Results do not depend on it
    // (tests/engine/wasm-threads); the thread tests set their counts themselves.
    env: { CONVSCOPE_MODEL_MEMORY_LIMIT: '1TiB', CONVSCOPE_THREADS: '1' },
    hookTimeout: 120_000,
    // tfjs backends are process-global: one file per worker process, two workers for two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
