/**
 * Ids were 32-bit `integer` columns on PostgreSQL, so an id or `after_id` past
 * 2^31−1 was an out-of-range error (a 500), and the ledger would have stopped
 * at 2^31−1 trades. `bigint` keeps every stored value; the counters already
 * were. SQLite's INTEGER holds 64 bits whatever the declared type: nothing to do.
 *
 * Frozen in time: this file never imports application code.
 */

import { type Kysely, PostgresAdapter } from 'kysely';

const COLUMNS = [
  ['accounts', 'id'],
  ['api_keys', 'account_id'],
  ['trades', 'id'],
] as const;

function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, column] of COLUMNS) {
    await db.schema.alterTable(table).alterColumn(column, (c) => c.setDataType('bigint')).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  for (const [table, column] of COLUMNS.toReversed()) {
    await db.schema.alterTable(table).alterColumn(column, (c) => c.setDataType('integer')).execute();
  }
}
