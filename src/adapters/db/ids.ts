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
  return takeNextIds(trx, counter, 1);
}

/**
 * The first of `count` consecutive ids, taken in one update inside the
 * caller's transaction: a batch of rows costs one counter update, and its ids
 * are first, first + 1, … in the order the caller numbers them.
 */
export async function takeNextIds(trx: Kysely<Database>, counter: string, count: number): Promise<number> {
  const row = await trx
    .updateTable('id_counters')
    .set((eb) => ({ last_id: eb('last_id', '+', count) }))
    .where('name', '=', counter)
    .returning('last_id')
    .executeTakeFirstOrThrow();
  return Number(row.last_id) - count + 1;
}

/** True when a database error is a unique-constraint violation, on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
