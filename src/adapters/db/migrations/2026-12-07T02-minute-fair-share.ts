/**
 * Lookups per client, provider and calendar minute: the fair share of a provider's per-minute limit, as
 * upstream_lookups holds it for the day (app/market-data/upstream-budget.ts). Rows older than the current
 * minute are dropped on each minute's first call.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('upstream_minute_lookups')
    .addColumn('provider', 'varchar(32)', (c) => c.notNull())
    .addColumn('minute_start', 'bigint', (c) => c.notNull())
    .addColumn('client', 'varchar(64)', (c) => c.notNull())
    .addColumn('lookups', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('upstream_minute_lookups_pk', ['provider', 'minute_start', 'client'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('upstream_minute_lookups').execute();
}
