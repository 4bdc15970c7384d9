import { defineConfig } from 'vitest/config';

// Suites that need ../shared (the ASAP corpus); CI runs them after `npm test`.
export default defineConfig({
  test: {
    include: ['test/shared/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
