/**
 * Ledger claims: a user_id of the trade ledger that an account has claimed, so that only that
 * account's key writes and reads its trades (issue 18). One row per claimed user_id: the primary key
 * is what makes two claimants race to one winner, on either engine.
 *
 * Frozen in time: this file never imports application code.
 */

import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ledger_claims')
    .addColumn('user_id', 'bigint', (c) => c.primaryKey())
    .addColumn('account_id', 'bigint', (c) => c.notNull().references('accounts.id'))
    .addColumn('claimed_at', 'bigint', (c) => c.notNull())
    // The ledger's last trade id when the claim was made: trades of this user_id up to it were recorded before the claim.
    .addColumn('after_trade_id', 'bigint', (c) => c.notNull())
    .execute();
  // An account's claims are listed and counted by account.
  await db.schema.createIndex('ledger_claims_account').on('ledger_claims').column('account_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ledger_claims').execute();
}
