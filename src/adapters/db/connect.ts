import type { Socket } from 'node:net';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseTarget } from '../../config.js';
import type { Database } from './database.js';
import { reusingStatements } from './statement-cache.js';
import { translatingUnavailability } from './unavailable.js';

const INT8_OID = 20;

/**
 * better-sqlite3 12 (node::ObjectWrap) aborts the process on Node 24 when a
 * statement is garbage-collected ("Assertion failed: (env) != nullptr",
 * WiseLibs/better-sqlite3#1515); 13 (Node-API) fixes that but crashes on
 * Node 20. Both are optional dependencies, 12 under the alias
 * better-sqlite3-node20: npm skips, without a warning, the one whose
 * `engines` exclude the running Node (13 declares >=22), and each Node loads
 * the one that works on it — only when SQLite is used.
 */
function loadSqlite(): typeof SQLite {
  const onNode20 = Number(process.versions.node.split('.')[0]) < 22;
  const moduleName = onNode20 ? 'better-sqlite3-node20' : 'better-sqlite3';
  try {
    return createRequire(import.meta.url)(moduleName) as typeof SQLite;
  } catch (error) {
    throw new Error(
      `SQLite on Node ${process.versions.node} needs the optional dependency ${moduleName}, which did not install ` +
        '(it builds with python3, make and g++ when no prebuilt binary fits). Reinstall, or use PostgreSQL.',
      { cause: error },
    );
  }
}

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
  const SQLiteDatabase = loadSqlite();
  const sqlite = new SQLiteDatabase(path);
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
    return new Kysely<Database>({ dialect: translatingUnavailability(new SqliteDialect({ database: reusingStatements(openSqlite(target.path)) })) });
  }
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.poolSize,
    // Bounds both opening a connection and waiting for a free one in a full pool.
    connectionTimeoutMillis: target.connectTimeoutMs,
    // Enforced by the server, which cancels the statement (57014): the connection stays usable.
    ...(target.statementTimeoutMs > 0 && { statement_timeout: target.statementTimeoutMs }),
    // A peer that vanished without a FIN (a crashed host) is noticed instead of awaited for ever.
    keepAlive: true,
    types: pgTypes,
  });
  pool.on('error', onIdleClientError);
  pool.on('connect', ignoreErrorsInUse);
  if (target.statementTimeoutMs > 0) pool.on('connect', (client) => boundSilence(client, silenceBound(target.statementTimeoutMs)));
  const db = new Kysely<Database>({ dialect: translatingUnavailability(new PostgresDialect({ pool })) });
  pools.set(db, pool);
  return db;
}

/** Each PostgreSQL connection's pool: Kysely does not expose it, and /metrics reports it. */
const pools = new WeakMap<Kysely<Database>, pg.Pool>();

/** Connections open and idle, and queries waiting for one; undefined on SQLite (no pool). */
export function poolUsage(db: Kysely<Database>): { total: number; idle: number; waiting: number } | undefined {
  const pool = pools.get(db);
  return pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * pg emits 'error' on a client whose connection breaks, and the pool listens
 * only while the client is idle: a connection lost mid-query (PostgreSQL
 * restarting under load) would be an uncaught 'error' that ends the process.
 * The query itself already rejects with the error, and the pool drops the
 * broken client when it is released, so the event needs nothing more.
 */
function ignoreErrorsInUse(client: pg.PoolClient): void {
  client.on('error', () => undefined);
}

/**
 * How long a connection with a query in flight may stay silent: longer than any statement the server lets
 * run (it cancels one at DATABASE_STATEMENT_TIMEOUT_MS and says so), so only a link gone silent reaches it.
 */
function silenceBound(statementTimeoutMs: number): number {
  return statementTimeoutMs + Math.max(1000, statementTimeoutMs / 2);
}

/**
 * Ends a connection whose query has had no answer for `ms`. A link that goes silent (a partition that drops
 * packets, closing nothing) leaves a query waiting on TCP's retransmissions, which back off to minutes; the
 * server's statement timeout cannot reach the client either, and keep-alive probes only idle connections.
 * Seen in npm run test:network: an instance ready again 24 s before it could write. Ending the connection
 * fails the query as "Connection terminated" (a 503, as for a database away) and the pool opens a new one.
 * pg has no option for this (its query_timeout leaves the connection busy), hence its socket's own timer.
 */
function boundSilence(client: pg.PoolClient, ms: number): void {
  const internals = client as unknown as { connection: { stream: Socket }; activeQuery?: unknown };
  const socket = internals.connection.stream;
  socket.setTimeout(ms, () => {
    if (internals.activeQuery) socket.destroy();
  });
}
