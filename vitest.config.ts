import { defineConfig } from 'vitest/config';

// Separate from the renderer's vite config, whose root is src-renderer/ (vitest would find no tests there).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './tests/support/closing-line-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // tfjs backends are process-global: one file per worker process, two workers for two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
