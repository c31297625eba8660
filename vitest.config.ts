import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Physics and tensor tests are CPU-bound; two workers match this 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
