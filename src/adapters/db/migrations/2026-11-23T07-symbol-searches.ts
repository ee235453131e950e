// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

/** Each search query's answer, as asked upstream once a day, shared by every instance. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('symbol_searches')
    .addColumn('query', 'varchar(64)', (c) => c.primaryKey())
    // The matches as JSON text: read and written whole, never queried inside.
    .addColumn('matches', 'text', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('symbol_searches').execute();
}
