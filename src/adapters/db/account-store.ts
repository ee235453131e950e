import type { Kysely } from 'kysely';
import type { AccountStore } from '../../app/accounts.js';
import type { Account } from '../../domain/account.js';
import { ConflictError } from '../../domain/errors.js';
import type { Database } from './database.js';
import { isUniqueViolation, takeNextId } from './ids.js';
import { withinTransaction } from './transaction.js';

const ACCOUNT_COLUMNS = ['accounts.id', 'name', 'last_name', 'email', 'accounts.created_at'] as const;

export function createAccountStore(db: Kysely<Database>): AccountStore {
  return {
    async create(registration, key, now) {
      try {
        return await withinTransaction(db, async (trx) => {
          const account: Account = {
            id: await takeNextId(trx, 'accounts'),
            name: registration.name,
            last_name: registration.last_name,
            email: registration.email,
            created_at: now,
          };
          await trx.insertInto('accounts').values({ ...account, email_key: registration.email_key }).execute();
          await trx
            .insertInto('api_keys')
            .values({ key_hash: key.keyHash, account_id: account.id, prefix: key.prefix, created_at: now, revoked_at: null, tagged: 1 })
            .execute();
          return account;
        });
      } catch (error) {
        // The unique index decides, so two concurrent registrations of one email cannot both win.
        if (isUniqueViolation(error)) throw new ConflictError('email', 'An account with this email is already registered.');
        throw error;
      }
    },

    async findByKeyHash(keyHash) {
      const row = await db
        .selectFrom('api_keys')
        .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
        .select([...ACCOUNT_COLUMNS, 'prefix'])
        .where('key_hash', '=', keyHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (!row) return undefined;
      const { prefix, ...account } = row;
      return { account, prefix };
    },

    async replaceKey(keyHash, replacement, now) {
      return db.transaction().execute(async (trx) => {
        // The row lock makes this the one place a key changes state: a second
        // rotation or revocation of the same key waits, then finds it revoked.
        const revoked = await trx
          .updateTable('api_keys')
          .set({ revoked_at: now })
          .where('key_hash', '=', keyHash)
          .where('revoked_at', 'is', null)
          .returning('account_id')
          .executeTakeFirst();
        if (!revoked) return false;
        if (replacement) {
          await trx
            .insertInto('api_keys')
            .values({ key_hash: replacement.keyHash, account_id: revoked.account_id, prefix: replacement.prefix, created_at: now, revoked_at: null, tagged: 1 })
            .execute();
        }
        return true;
      });
    },

    async apiKeySecret() {
      const row = await db.selectFrom('service_secrets').select('value').where('name', '=', 'api_key_tag').executeTakeFirst();
      if (!row) {
        throw new Error(
          "the database has no API key secret (service_secrets row 'api_key_tag', written by the migration 2026-12-06T00-api-key-tags): " +
            'restore it from a backup, or migrate that migration down and up again (a new secret: keys issued since then stop working)',
        );
      }
      return row.value;
    },

    async untaggedKeyHashes(createdSince) {
      let query = db.selectFrom('api_keys').select('key_hash').where('tagged', '=', 0).where('revoked_at', 'is', null);
      if (createdSince !== undefined) query = query.where('created_at', '>=', createdSince);
      return (await query.execute()).map((row) => row.key_hash);
    },
  };
}
