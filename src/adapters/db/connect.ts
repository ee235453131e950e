import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../../config.js';
import type { Database } from './database.js';

const INT8_OID = 20;

/**
 * PostgreSQL returns BIGINT as a string to be safe past 2^53. Our BIGINT
 * columns (prices, epoch milliseconds, user ids) are validated as safe
 * integers on the way in, so they come back as numbers.
 */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

function openSqlite(path: string): SQLite.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers proceed during a write; the busy timeout makes a second
  // process (the CLI importing prices, say) wait for the lock instead of failing.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/**
 * @param onIdleClientError called when an idle PostgreSQL connection breaks (a
 * server restart, say). The pool replaces it; without a listener, pg would
 * crash the process.
 */
export function connectDatabase(
  target: DatabaseTarget,
  onIdleClientError: (error: Error) => void = () => undefined,
): Kysely<Database> {
  if (target.engine === 'sqlite') {
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqlite(target.path) }) });
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.poolSize,
    connectionTimeoutMillis: 5000,
    types: pgTypes,
  });
  pool.on('error', onIdleClientError);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
