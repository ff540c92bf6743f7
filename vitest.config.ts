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
  },
});
