// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

/** Market-data requests answered per UTC day, by every instance together (each adds its counts in batches). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('served_requests')
    // epoch ms of the day's 00:00 UTC
    .addColumn('day_start', 'bigint', (c) => c.primaryKey())
    .addColumn('requests', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('served_requests').execute();
}
