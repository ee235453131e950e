import { defineConfig } from 'vitest/config';
import { testEngines } from './test/support/engines.js';

// Files whose every suite needs PostgreSQL (several instances share one): left out, not reported as
// empty, when TEST_ENGINES leaves PostgreSQL out (CI's runs on newer Node lines test SQLite only).
const POSTGRES_ONLY = ['test/instances.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(testEngines().includes('postgres') ? [] : POSTGRES_ONLY)],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Most tests wait on PostgreSQL, Redis or child processes: more workers than cores pay off.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
