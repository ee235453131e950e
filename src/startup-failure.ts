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

/** Which setting names a path: the SQLite file's folder, or the request log's. */
function variableOf(path: string, config: Config): string {
  const target = resolve(path);
  const log = resolve(config.apiCallsLogPath);
  if (target === log || target === dirname(log)) return 'APICALLS_LOG';
  if (config.database.engine === 'sqlite') return 'DATABASE_URL';
  return 'a path the service writes';
}

/** host:port of a PostgreSQL URL, without its user or password. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return 'the configured host';
  }
}
