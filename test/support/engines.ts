import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

export type Engine = 'sqlite' | 'postgres';

/** The engines the storage tests run on: both unless TEST_ENGINES narrows them. */
export function testEngines(): Engine[] {
  const engines = (process.env.TEST_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim());
  for (const engine of engines) {
    if (engine !== 'sqlite' && engine !== 'postgres') throw new Error(`TEST_ENGINES: unknown engine "${engine}"`);
  }
  return engines as Engine[];
}

export function adminPostgresUrl(): string {
  return process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Redis settings for one test: its own key prefix, so parallel tests never share counters. */
export function testRedisEnv(): Record<string, string> {
  return { REDIS_URL: testRedisUrl(), REDIS_KEY_PREFIX: `sms-test:${randomBytes(6).toString('hex')}:` };
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminPostgresUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of the given engine, for one test. */
export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  const name = `sms_test_${inject('runId')}_${randomBytes(4).toString('hex')}`;
  if (engine === 'sqlite') {
    return { url: `sqlite:${join(inject('sqliteDir'), `${name}.db`)}`, drop: async () => undefined };
  }
  await adminQuery(`create database "${name}"`);
  const url = new URL(adminPostgresUrl());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(`drop database if exists "${name}" with (force)`) };
}
