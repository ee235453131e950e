// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

/** The currency a symbol's vendor quotes it in, kept with its last refresh (null: the vendor did not say). */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('symbol_refreshes').addColumn('currency', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('symbol_refreshes').dropColumn('currency').execute();
}
