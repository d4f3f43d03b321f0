import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests need nothing; integration tests get one migrated
// test database per run (test/support/global-setup.ts) and real Redis.
const plugins = [swc.vite({ module: { type: 'es6' } })];

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        plugins,
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        plugins,
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
