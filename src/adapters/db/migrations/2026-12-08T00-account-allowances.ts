/**
 * An account's own allowance: a rate such as "5000/day" that an operator gives it (`npm run cli --
 * accounts set-allowance`), in place of THROTTLE_USER for that account only. Null: THROTTLE_USER.
 * Kept as the text the operator wrote, in DRF's syntax, so /me shows it as written.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('allowance', 'varchar(32)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('allowance').execute();
}
