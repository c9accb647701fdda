import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Suites start embedded clusters (dynalite per region, replicated routing tables) in beforeAll; on a loaded
    // 2-core machine that takes several seconds.
    hookTimeout: 60_000,
  },
});
