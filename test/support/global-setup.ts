import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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
    /** The first of this run's blocks of ports for child processes (support/process.ts). */
    portBlock: number;
  }
}

/** Loopback ports held by test runs, one each for as long as it lasts: the index of a run's picks its ports. */
const RUN_LOCK_PORTS = [19_990, 19_991, 19_992];

/**
 * Takes the first free run lock. Child processes listen on ports from their worker's block
 * (support/process.ts); two runs at once on one machine (two worktrees, say) had the same blocks, and a
 * test could then talk to the other run's server, on its database (seen as an acknowledged trade missing).
 */
async function holdRunLock(): Promise<{ index: number; server: Server }> {
  for (const [index, port] of RUN_LOCK_PORTS.entries()) {
    const server = createServer();
    server.listen(port, '127.0.0.1');
    try {
      await once(server, 'listening');
      return { index, server };
    } catch {
      // Held by another run.
    }
  }
  throw new Error(`More than ${RUN_LOCK_PORTS.length} test runs at once on this machine (each holds one of the ports ${RUN_LOCK_PORTS.join(', ')}).`);
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
  const lock = await holdRunLock();
  // Worker ids run from 1 to maxWorkers: each run's workers take blocks after the runs' before it.
  project.provide('portBlock', lock.index * project.config.maxWorkers);

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
    await new Promise((resolve) => lock.server.close(resolve));
  };
}
