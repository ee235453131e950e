import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { Redis } from 'ioredis';
import { adminPostgresUrl, testEngines, testRedisUrl } from './engines.js';

declare module 'vitest' {
  export interface ProvidedContext {
    runId: string;
    sqliteDir: string;
  }
}

async function dropRunDatabases(runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminPostgresUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`sms_test_${runId}_%`],
    );
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}

/**
 * Every test run gets its own id: each PostgreSQL test database is named after
 * it and dropped after, and whatever a crashed test left is dropped here.
 * PostgreSQL or Redis being unreachable fails the run; neither is ever silently skipped.
 */
export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex');
  const sqliteDir = mkdtempSync(join(tmpdir(), 'sms-test-'));
  project.provide('runId', runId);
  project.provide('sqliteDir', sqliteDir);

  if (testEngines().includes('postgres')) {
    const client = new pg.Client({ connectionString: adminPostgresUrl(), connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.end();
    } catch (error) {
      throw new Error(
        `PostgreSQL is unreachable at ${adminPostgresUrl()} (${(error as Error).message}). ` +
          'Start it (see README) or run only the SQLite tests with TEST_ENGINES=sqlite.',
      );
    }
  }

  const redis = new Redis(testRedisUrl(), { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is unreachable at ${testRedisUrl()} (${(error as Error).message}). Start it (see README).`);
  } finally {
    redis.disconnect();
  }

  return async () => {
    if (testEngines().includes('postgres')) await dropRunDatabases(runId);
    rmSync(sqliteDir, { recursive: true, force: true });
  };
}
