// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

/** The answer of each idempotent write, by route and Idempotency-Key, shared by every instance. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('route', 'varchar(64)', (c) => c.notNull())
    .addColumn('key', 'varchar(255)', (c) => c.notNull())
    // SHA-256 (hex) of the request's canonical body.
    .addColumn('fingerprint', 'char(64)', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    // The answer's body as sent; '' where it is not kept (a registration's API key).
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['route', 'key'])
    .execute();
  // Pruning reads the oldest expiries first.
  await db.schema.createIndex('idempotency_keys_expires_at').on('idempotency_keys').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
}
