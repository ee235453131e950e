import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct SQL texts kept prepared; batches with IN lists of every length make more than a service's few dozen. */
const MAX_STATEMENTS = 500;

/**
 * Kysely's SQLite driver prepares every query it runs (`db.prepare(sql)`), which
 * SQLite parses and plans anew: measured at the largest single cost of a
 * primary-key read under load. This hands Kysely a database whose `prepare`
 * reuses the statement already prepared for the same SQL text. A statement
 * still being iterated (a streamed read) is busy and cannot run twice at
 * once, so a fresh one is prepared for that call instead.
 */
export function reusingStatements(sqlite: SQLite.Database, maxStatements = MAX_STATEMENTS): SqliteDatabase {
  const prepared = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const kept = prepared.get(sql);
      if (kept && !kept.busy) return kept;
      const statement = sqlite.prepare(sql);
      if (kept) return statement;
      // Oldest first out: a Map keeps insertion order.
      if (prepared.size >= maxStatements) prepared.delete(prepared.keys().next().value!);
      prepared.set(sql, statement);
      return statement;
    },
  };
}
