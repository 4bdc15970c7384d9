import { defineConfig } from 'vitest/config';

// `npm test` runs the self-contained suite (no ../shared data needed).
// Suites that read ../shared live in test/shared and run with `npm run test:shared`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/shared/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
