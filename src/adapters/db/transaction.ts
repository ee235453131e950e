import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/**
 * Runs `work` in a new transaction, or in `db` itself when it already is one:
 * a store built on a transaction (see import-transaction.ts) then writes within it,
 * so a use case can combine several stores' writes into one all-or-nothing unit.
 */
export function withinTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
