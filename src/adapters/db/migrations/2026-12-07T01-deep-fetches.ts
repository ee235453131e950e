/**
 * When each symbol's deepest history was last asked of a vendor (app/market-data/prices.ts): a symbol
 * stored before the first fetch asked for it (100 sessions, or an import) is backfilled once, when a
 * client asks for history beyond what is stored. Null for every symbol stored before this migration.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('symbol_refreshes').addColumn('deep_fetched_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('symbol_refreshes').dropColumn('deep_fetched_at').execute();
}
