import { defineConfig } from 'vitest/config';

// `sensorkit/...` imports in tests resolve to the TypeScript sources (the package's
// "sensorkit-source" export condition), never to a dist/ that may be stale or not built. Setting
// the conditions replaces Vite's defaults, so its server defaults follow.
const conditions = ['sensorkit-source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two test files at a time: most of a file's time is spent waiting on child processes, brokers
    // and servers, so two fit on two cores (the default leaves one core idle and doubles the run).
    maxWorkers: 2,
  },
});
