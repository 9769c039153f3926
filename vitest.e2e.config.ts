import { defineConfig } from 'vitest/config';

// End-to-end tests share one real control plane and one kubegate (globalSetup),
// and run one file at a time so held requests and the audit log are predictable.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts', 'test/security/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
