/**
 * Keys carry a tag from now on (app/api-keys.ts): a secret to tag them under, drawn here once for every
 * instance of this database, and a mark on each key of whether it was issued with one. The keys already
 * stored have none (tagged = 0) and keep working: each instance holds their hashes in memory.
 *
 * Frozen in time: this file never imports application code.
 */

import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('service_secrets')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('value', 'varchar(128)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // 256 bits, hex. Drawn by the database's first migration, so every instance reads the same.
  await db.insertInto('service_secrets').values({ name: 'api_key_tag', value: randomBytes(32).toString('hex'), created_at: Date.now() }).execute();
  // An integer, not a boolean: SQLite has none, and its driver binds no JavaScript booleans.
  await db.schema.alterTable('api_keys').addColumn('tagged', 'smallint', (c) => c.notNull().defaultTo(0)).execute();
  // Untagged keys written after an instance started (by the code before tags, during a deploy) are read by creation time.
  await db.schema.createIndex('api_keys_untagged_created').on('api_keys').column('created_at').where(sql.ref('tagged'), '=', 0).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_keys_untagged_created').execute();
  await db.schema.alterTable('api_keys').dropColumn('tagged').execute();
  await db.schema.dropTable('service_secrets').execute();
}
