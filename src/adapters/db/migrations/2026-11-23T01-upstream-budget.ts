// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Calls made to each provider per quota window, shared by every instance.
  await db.schema
    .createTable('upstream_calls')
    .addColumn('provider', 'varchar(32)', (c) => c.notNull())
    // 'day' (from 00:00 UTC) or 'minute' (the calendar minute)
    .addColumn('window', 'varchar(8)', (c) => c.notNull())
    // epoch ms of the window's start
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('calls', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('upstream_calls_pk', ['provider', 'window', 'window_start'])
    .execute();

  // Lookups of symbols the store did not hold, per client, provider and UTC day: the fair share.
  await db.schema
    .createTable('upstream_lookups')
    .addColumn('provider', 'varchar(32)', (c) => c.notNull())
    .addColumn('day_start', 'bigint', (c) => c.notNull())
    .addColumn('client', 'varchar(64)', (c) => c.notNull())
    .addColumn('lookups', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('upstream_lookups_pk', ['provider', 'day_start', 'client'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('upstream_lookups').execute();
  await db.schema.dropTable('upstream_calls').execute();
}
