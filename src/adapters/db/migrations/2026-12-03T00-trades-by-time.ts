// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

/** A user's trades in time order (portfolios): read a batch at a time by (timestamp, id), never sorted whole. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('trades_user_id_timestamp_id').on('trades').columns(['user_id', 'timestamp', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('trades_user_id_timestamp_id').execute();
}
