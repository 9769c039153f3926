import { defineConfig } from 'vitest/config';

// The security suite against an already running `kubegate dev` (set KG_E2E_DIR to its --dir),
// e.g. one started with `node dist/cli/kubegate.js dev --dir /tmp/sec --port 0 --set execution.hold_seconds=3`.
// In CI the suite runs with vitest.e2e.config.ts and its shared global setup instead.
export default defineConfig({
  test: {
    include: ['test/security/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
