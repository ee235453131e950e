import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/**
 * The next id of a counter, taken inside the caller's transaction (`trx` is one). A counter
 * row rather than a sequence: a sequence skips numbers when an insert rolls
 * back, and the trade contract promises ids 1, 2, 3… with no gaps. The row
 * lock also serialises concurrent inserts, and the same DDL serves SQLite and
 * PostgreSQL.
 */
export async function takeNextId(trx: Kysely<Database>, counter: string): Promise<number> {
  const row = await trx
    .updateTable('id_counters')
    .set((eb) => ({ last_id: eb('last_id', '+', 1) }))
    .where('name', '=', counter)
    .returning('last_id')
    .executeTakeFirstOrThrow();
  return Number(row.last_id);
}

/** True when a database error is a unique-constraint violation, on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
