/**
 * The one place a driver's "the database is away" becomes the domain's
 * DatabaseUnavailableError (503 with Retry-After): every query, connection
 * and transaction step of every store passes through the dialect wrapped
 * here, so no store and no use case needs to know pg's or SQLite's errors.
 */
import type { DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { DatabaseUnavailableError } from '../../domain/errors.js';

/** Socket-level failures: the server is down, restarting, or unreachable. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that is going, gone or refusing for now: 08 is the
 * connection-exception class; 57P01 admin shutdown (a restart), 57P02 crash
 * shutdown, 57P03 not yet accepting connections (starting, recovering);
 * 57014 a statement cancelled (DATABASE_STATEMENT_TIMEOUT_MS); 53300 too many connections.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '57014', '53300']);

/**
 * pg's own errors carry no code, only words: a connection closed under a
 * query, a pool that gave up waiting (DATABASE_CONNECT_TIMEOUT_MS), a client
 * already broken, a pool being shut down.
 */
const PG_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /is not queryable/,
  /^Cannot use a pool after calling end/,
];

/** SQLite refuses while another process holds the lock longer than its busy timeout. */
const SQLITE_BUSY = /^SQLITE_(BUSY|LOCKED)/;

export function isUnavailability(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || SQLITE_BUSY.test(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return PG_MESSAGES.some((pattern) => pattern.test(error.message));
}

function translated(error: unknown): unknown {
  return isUnavailability(error) ? new DatabaseUnavailableError({ cause: error }) : error;
}

async function translating<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translated(error);
  }
}

function wrapConnection(inner: DatabaseConnection): DatabaseConnection {
  return {
    executeQuery: <R>(query: Parameters<DatabaseConnection['executeQuery']>[0]): Promise<QueryResult<R>> =>
      translating(() => inner.executeQuery<R>(query)),
    async *streamQuery<R>(query: Parameters<DatabaseConnection['streamQuery']>[0], chunkSize?: number) {
      try {
        yield* inner.streamQuery<R>(query, chunkSize);
      } catch (error) {
        throw translated(error);
      }
    },
  };
}

/** The driver, with each outward connection a translating wrapper of the driver's own (handed back unwrapped). */
function translatingDriver(inner: Driver): Driver {
  const wrappers = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const innerOf = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const unwrap = (connection: DatabaseConnection) => innerOf.get(connection) ?? connection;
  const step = (name: 'commitTransaction' | 'rollbackTransaction' | 'releaseConnection') => (connection: DatabaseConnection) =>
    translating(() => inner[name](unwrap(connection)));

  return {
    init: () => translating(() => inner.init()),
    async acquireConnection() {
      const connection = await translating(() => inner.acquireConnection());
      let wrapper = wrappers.get(connection);
      if (!wrapper) {
        wrapper = wrapConnection(connection);
        wrappers.set(connection, wrapper);
        innerOf.set(wrapper, connection);
      }
      return wrapper;
    },
    beginTransaction: (connection: DatabaseConnection, settings: TransactionSettings) =>
      translating(() => inner.beginTransaction(unwrap(connection), settings)),
    commitTransaction: step('commitTransaction'),
    rollbackTransaction: step('rollbackTransaction'),
    releaseConnection: step('releaseConnection'),
    ...(inner.savepoint && { savepoint: (c, name, compile) => translating(() => inner.savepoint!(unwrap(c), name, compile)) }),
    ...(inner.rollbackToSavepoint && {
      rollbackToSavepoint: (c, name, compile) => translating(() => inner.rollbackToSavepoint!(unwrap(c), name, compile)),
    }),
    ...(inner.releaseSavepoint && {
      releaseSavepoint: (c, name, compile) => translating(() => inner.releaseSavepoint!(unwrap(c), name, compile)),
    }),
    destroy: () => inner.destroy(),
  };
}

/** `dialect`, its driver's unavailability errors translated to DatabaseUnavailableError. */
export function translatingUnavailability(dialect: Dialect): Dialect {
  return {
    createDriver: () => translatingDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
