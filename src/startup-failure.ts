/**
 * A start-up failure as one line an operator can act on: the variable to fix and why, in place of a
 * stack trace. Only what commonly goes wrong when a process starts is named (a folder or file that
 * cannot be written, a database that cannot be reached or read); anything else is undefined, and the
 * caller prints it whole, since it is then a bug.
 */
import { dirname, resolve } from 'node:path';
import type { Config } from './config.js';

/** Node's words for the system errors met here, as an operator reads them. */
const SYSTEM_CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a file is in the way of a folder',
  EEXIST: 'a file is in the way of a folder',
  EISDIR: 'it is a folder',
  ENXIO: 'no such device or address (a socket, as standard output is under systemd, cannot be opened by path: log to a file)',
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
  ETIMEDOUT: 'timed out',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'no such address on this machine',
  EHOSTUNREACH: 'host unreachable',
};

/** PostgreSQL's SQLSTATEs met at a first connection. */
const POSTGRES_CAUSES: Record<string, string> = {
  '28P01': 'password authentication failed',
  '28000': 'the role does not exist or may not connect',
  '3D000': 'the database does not exist',
  '57P03': 'the server is starting up or shutting down',
  '53300': 'too many connections',
};

/**
 * A service the process needs could not be reached while it started (Redis): the caller names the
 * variable that points at it, as a path or a database URL is named below.
 */
export class UnreachableAtStart extends Error {
  constructor(
    readonly variable: string,
    readonly what: string,
    readonly address: string,
    override readonly cause: unknown,
  ) {
    super(`${what} at ${address} is unreachable`, { cause });
  }
}

/** The port could not be listened on (taken, say). */
export class CannotListen extends Error {
  constructor(
    readonly address: string,
    override readonly cause: unknown,
  ) {
    super(`cannot listen on ${address}`, { cause });
  }
}

interface SystemError {
  code?: string;
  path?: string;
  message?: string;
  cause?: unknown;
}

export function startupFailureLine(error: unknown, config: Config): string | undefined {
  for (let current = error as SystemError | undefined, depth = 0; current && depth < 5; current = current.cause as SystemError | undefined, depth++) {
    const line = lineFor(current, config);
    if (line) return line;
  }
  return undefined;
}

function lineFor(error: SystemError, config: Config): string | undefined {
  if (error instanceof UnreachableAtStart) return `${error.variable}: cannot reach ${error.what} at ${error.address}: ${causeOf(error.cause)}`;
  if (error instanceof CannotListen) return `PORT: cannot listen on ${error.address}: ${causeOf(error.cause)}`;
  const { code, path } = error;
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY_DBMOVED') {
    const file = config.database.engine === 'sqlite' ? config.database.path : 'the database';
    return `DATABASE_URL: cannot write the SQLite file ${file}: ${code === 'SQLITE_CANTOPEN' ? 'it cannot be opened' : 'it is read-only'}`;
  }
  if (code && POSTGRES_CAUSES[code] && config.database.engine === 'postgres') {
    return `DATABASE_URL: PostgreSQL at ${hostOf(config.database.url)} refused: ${POSTGRES_CAUSES[code]}`;
  }
  const cause = code ? SYSTEM_CAUSES[code] : undefined;
  if (!cause) return undefined;
  if (path) return `${variableOf(path, config)}: cannot create or write ${path}: ${cause}`;
  if (config.database.engine === 'postgres') return `DATABASE_URL: cannot reach PostgreSQL at ${hostOf(config.database.url)}: ${cause}`;
  return undefined;
}

/** Node's words for a system error, or its own message when it has no code met here. */
function causeOf(error: unknown): string {
  const { code, message } = (error ?? {}) as SystemError;
  return (code && SYSTEM_CAUSES[code]) || message || String(error);
}

/** Which setting names a path: the SQLite file's folder, or the request log's. */
function variableOf(path: string, config: Config): string {
  const target = resolve(path);
  const log = resolve(config.apiCallsLogPath);
  if (target === log || target === dirname(log)) return 'APICALLS_LOG';
  if (config.database.engine === 'sqlite') return 'DATABASE_URL';
  return 'a path the service writes';
}

/** host:port of a PostgreSQL or Redis URL, without its user or password. */
export function hostOf(url: string, defaultPort = '5432'): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || defaultPort}`;
  } catch {
    return 'the configured host';
  }
}
