// Frozen in time: this file never imports application code.

import type { Kysely } from 'kysely';

/** Alpha Vantage's answers to passed-through calls, one row per distinct call, shared by every instance. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pass_through_answers')
    // SHA-256 (hex) of the call's one text form: a call may be longer than an index takes.
    .addColumn('key', 'char(64)', (c) => c.primaryKey())
    .addColumn('function', 'varchar(64)', (c) => c.notNull())
    // The call's one text form, without any key: for an operator reading the table.
    .addColumn('query', 'text', (c) => c.notNull())
    // data, error, premium, notice or too_large.
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    // json or csv; '' where there is no body (too_large).
    .addColumn('format', 'varchar(8)', (c) => c.notNull())
    // As Alpha Vantage sent it: read and written whole, never queried inside.
    .addColumn('body', 'text', (c) => c.notNull())
    // The body's size in UTF-8 bytes: what the cache's bound counts.
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  // Pruning deletes what expired long ago, then the oldest fetched past the bound.
  await db.schema.createIndex('pass_through_answers_expires_at').on('pass_through_answers').column('expires_at').execute();
  await db.schema.createIndex('pass_through_answers_fetched_at').on('pass_through_answers').column('fetched_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('pass_through_answers').execute();
}
