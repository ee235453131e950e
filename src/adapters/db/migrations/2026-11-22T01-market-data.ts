// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('last_name', 'varchar(100)', (c) => c.notNull())
    .addColumn('email', 'varchar(254)', (c) => c.notNull())
    // Lower-cased email: uniqueness is case-insensitive, enforced by the database.
    .addColumn('email_key', 'varchar(254)', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('id_counters').values({ name: 'accounts', last_id: 0 }).execute();

  await db.schema
    .createTable('api_keys')
    // SHA-256 of the key, hex: the key itself is never stored.
    .addColumn('key_hash', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id'))
    .addColumn('prefix', 'varchar(8)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_account_id').on('api_keys').column('account_id').execute();

  await db.schema
    .createTable('daily_bars')
    .addColumn('symbol', 'varchar(15)', (c) => c.notNull())
    .addColumn('date', 'varchar(10)', (c) => c.notNull())
    // Prices as the provider wrote them ("130.7900"): text keeps them exact.
    .addColumn('open', 'varchar(32)', (c) => c.notNull())
    .addColumn('high', 'varchar(32)', (c) => c.notNull())
    .addColumn('low', 'varchar(32)', (c) => c.notNull())
    .addColumn('close', 'varchar(32)', (c) => c.notNull())
    .addColumn('volume', 'bigint', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('daily_bars_pk', ['symbol', 'date'])
    .execute();

  await db.schema
    .createTable('symbol_refreshes')
    .addColumn('symbol', 'varchar(15)', (c) => c.primaryKey())
    .addColumn('last_attempt_at', 'bigint', (c) => c.notNull())
    // 'bars' when upstream answered with data, 'unknown' when every provider said the symbol does not exist.
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('symbol_refreshes').execute();
  await db.schema.dropTable('daily_bars').execute();
  await db.schema.dropTable('api_keys').execute();
  await db.schema.dropTable('accounts').execute();
  await db.deleteFrom('id_counters').where('name', '=', 'accounts').execute();
}
