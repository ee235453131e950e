// Frozen in time: this file never imports application code.

import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Racing rotations could leave an account several active keys. Keep the newest
  // (ties broken by hash, so the choice is the same on every engine) and revoke the rest now.
  await sql`
    update api_keys set revoked_at = ${Date.now()}
    where revoked_at is null and exists (
      select 1 from api_keys newer
      where newer.account_id = api_keys.account_id
        and newer.revoked_at is null
        and (newer.created_at > api_keys.created_at
          or (newer.created_at = api_keys.created_at and newer.key_hash > api_keys.key_hash)))
  `.execute(db);
  // At most one active key per account, whatever the application does.
  await db.schema
    .createIndex('api_keys_one_active_per_account')
    .unique()
    .on('api_keys')
    .column('account_id')
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_keys_one_active_per_account').execute();
}
