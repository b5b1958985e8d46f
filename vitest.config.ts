import { defineConfig } from 'vitest/config';

// Netns, gossip-interop and dockerd tests share one machine's kernel and two cores:
// files run one after another so timing-sensitive tests are not starved.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The JSON report feeds the plain "N passed, N failed" line .ci/run prints at the end.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
