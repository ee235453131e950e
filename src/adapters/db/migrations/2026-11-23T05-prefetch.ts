// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Client requests per symbol and UTC day: the watchlist the after-close prefetch refreshes.
  await db.schema
    .createTable('symbol_demand')
    .addColumn('symbol', 'varchar(32)', (c) => c.notNull())
    // YYYY-MM-DD (UTC): a day's bucket, so "asked in the last N days" is a sum
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull())
    // epoch ms
    .addColumn('last_asked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('symbol_demand_pk', ['symbol', 'day'])
    .execute();
  await db.schema.createIndex('symbol_demand_day').on('symbol_demand').column('day').execute();

  // Who runs the prefetch (one instance at a time) until when, and the last session it completed.
  await db.schema
    .createTable('prefetch_lease')
    .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('holder', 'varchar(64)', (c) => c.notNull())
    // epoch ms; a holder that dies stops renewing, and the lease is free from then
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    // YYYY-MM-DD of the last session whose prefetch completed; null before the first
    .addColumn('last_session', 'varchar(10)')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('prefetch_lease').execute();
  await db.schema.dropTable('symbol_demand').execute();
}
