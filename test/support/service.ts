import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, inject } from 'vitest';
import { type ComposeOptions, composeService, type Service } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type Engine, type TestDatabase } from './engines.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Services close before their databases are dropped.
  while (cleanups.length > 0) await cleanups.pop()?.();
});

export interface TestService extends Service {
  database: TestDatabase;
}

/** The real service (real database, real migrations) on a fresh database; closed after the test. */
export async function startService(
  engine: Engine,
  env: Record<string, string> = {},
  database?: TestDatabase,
  options: ComposeOptions = {},
): Promise<TestService> {
  const db = database ?? (await createTestDatabase(engine));
  if (!database) cleanups.push(db.drop);
  const defaults = {
    LOG_LEVEL: 'silent',
    APICALLS_LOG: join(inject('sqliteDir'), `apicalls-${randomBytes(4).toString('hex')}.log`),
    // Generous limits unless a test is about throttling.
    THROTTLE_ANON: '1000000/day',
    THROTTLE_USER: '1000000/day',
    THROTTLE_REGISTER: '1000000/day',
    THROTTLE_KEYS: '1000000/day',
    // No timer runs the after-close prefetch behind a test's back: tests call service.prefetch() themselves.
    PREFETCH: 'off',
    // How long a query waits for a PostgreSQL connection before the database counts as away (5 s by default):
    // a bound on time, which a test not about it (one pricing a hundred symbols queues some 200 queries on a
    // pool of 10) must not race on a busy machine. Longer than a test runs; outages.test.ts sets its own.
    DATABASE_CONNECT_TIMEOUT_MS: '60000',
  };
  const service = await composeService(loadConfig({ ...defaults, ...env, DATABASE_URL: db.url }), options);
  let closed = false;
  const closeService = service.close;
  const close = async () => {
    if (closed) return;
    closed = true;
    await closeService();
  };
  cleanups.push(close);
  // The service itself, not a copy: its `draining` flag is read and set through it.
  return Object.assign(service, { close, database: db });
}
