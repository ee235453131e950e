// Frozen in time: this file never imports application code.

import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('trades')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('type', 'varchar(4)', (c) => c.notNull().check(sql`type in ('buy', 'sell')`))
    .addColumn('user_id', 'bigint', (c) => c.notNull())
    .addColumn('symbol', 'varchar(32)', (c) => c.notNull())
    .addColumn('shares', 'integer', (c) => c.notNull().check(sql`shares between 1 and 100`))
    .addColumn('price', 'bigint', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .execute();
  // Filters are answered in id order, so each index ends with id (keyset paging).
  await db.schema.createIndex('trades_user_id_id').on('trades').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('trades_symbol_id').on('trades').columns(['symbol', 'id']).execute();
  await db.schema.createIndex('trades_type_id').on('trades').columns(['type', 'id']).execute();

  await db.schema
    .createTable('id_counters')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('last_id', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('id_counters').values({ name: 'trades', last_id: 0 }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('id_counters').execute();
  await db.schema.dropTable('trades').execute();
}
