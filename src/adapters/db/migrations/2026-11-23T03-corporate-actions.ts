// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('splits')
    .addColumn('symbol', 'varchar(15)', (c) => c.notNull())
    .addColumn('date', 'varchar(10)', (c) => c.notNull())
    // New shares per old share as the source wrote it ("4", "0.1"): text keeps it exact, like daily_bars' prices.
    .addColumn('factor', 'varchar(32)', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('splits_pk', ['symbol', 'date'])
    .execute();

  await db.schema
    .createTable('dividends')
    .addColumn('symbol', 'varchar(15)', (c) => c.notNull())
    .addColumn('ex_date', 'varchar(10)', (c) => c.notNull())
    // Cash per share, exact as text.
    .addColumn('amount', 'varchar(32)', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('dividends_pk', ['symbol', 'ex_date'])
    .execute();

  await db.schema
    .createTable('action_refreshes')
    .addColumn('symbol', 'varchar(15)', (c) => c.primaryKey())
    .addColumn('last_attempt_at', 'bigint', (c) => c.notNull())
    // 'actions' when upstream answered (even with none), 'unknown' when every provider said the symbol does not exist.
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('action_refreshes').execute();
  await db.schema.dropTable('dividends').execute();
  await db.schema.dropTable('splits').execute();
}
