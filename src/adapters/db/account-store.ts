import type { ExpressionBuilder, Kysely } from 'kysely';
import type { AccountStore, AccountWithKey } from '../../app/accounts.js';
import type { Account } from '../../domain/account.js';
import { ConflictError } from '../../domain/errors.js';
import { parseRate } from '../../domain/throttle.js';
import type { Database } from './database.js';
import { isUniqueViolation, takeNextId } from './ids.js';
import { withinTransaction } from './transaction.js';

const ACCOUNT_COLUMNS = ['accounts.id', 'name', 'last_name', 'email', 'accounts.created_at', 'allowance'] as const;

/** Accounts read per query when all are listed: memory stays bounded however many there are. */
const ACCOUNTS_PER_BATCH = 500;

interface AccountRow extends Omit<Account, 'allowance'> {
  allowance: string | null;
}

/** An account as stored: its allowance is kept as the rate's text, checked by parseRate when it was set. */
function accountOf({ allowance, ...row }: AccountRow): Account {
  const rate = allowance === null ? undefined : parseRate(allowance);
  return rate ? { ...row, allowance: rate } : row;
}

/** The prefix of the account's working key, else of its latest key (a correlated subquery; api_keys is indexed by account). */
function keyPrefixes(eb: ExpressionBuilder<Database, 'accounts'>) {
  const keysOfAccount = () => eb.selectFrom('api_keys').whereRef('api_keys.account_id', '=', 'accounts.id');
  return [
    keysOfAccount().select('key_hash').where('revoked_at', 'is', null).limit(1).as('working_key_hash'),
    keysOfAccount().select('prefix').where('revoked_at', 'is', null).limit(1).as('working_prefix'),
    keysOfAccount().select('prefix').orderBy('created_at', 'desc').orderBy('key_hash').limit(1).as('latest_prefix'),
  ];
}

interface AccountWithKeyRow extends AccountRow {
  working_key_hash: string | null;
  working_prefix: string | null;
  latest_prefix: string | null;
}

function accountWithKeyOf({ working_key_hash, working_prefix, latest_prefix, ...row }: AccountWithKeyRow): AccountWithKey {
  return { account: accountOf(row), keyPrefix: working_prefix ?? latest_prefix ?? undefined, workingKeyHash: working_key_hash ?? undefined };
}

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
          await trx.insertInto('accounts').values({ ...account, email_key: registration.email_key, allowance: null }).execute();
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
      return { account: accountOf(account), prefix };
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

    async findByEmailKey(emailKey) {
      const row = await db.selectFrom('accounts').select(ACCOUNT_COLUMNS).select(keyPrefixes).where('email_key', '=', emailKey).executeTakeFirst();
      return row && accountWithKeyOf(row);
    },

    // In batches by id, as the ledger's unpaged list reads trades: Kysely's stream() needs pg-cursor on PostgreSQL,
    // and a batch is a short query on either engine that holds no connection while the reader writes.
    async *listNewestFirst() {
      let beforeId = Number.MAX_SAFE_INTEGER;
      for (;;) {
        const rows = await db
          .selectFrom('accounts')
          .select(ACCOUNT_COLUMNS)
          .select(keyPrefixes)
          .where('accounts.id', '<', beforeId)
          .orderBy('accounts.id', 'desc')
          .limit(ACCOUNTS_PER_BATCH)
          .execute();
        for (const row of rows) yield accountWithKeyOf(row);
        if (rows.length < ACCOUNTS_PER_BATCH) return;
        beforeId = rows.at(-1)!.id;
      }
    },

    async setAllowance(accountId, allowance) {
      const updated = await db.updateTable('accounts').set({ allowance }).where('id', '=', accountId).executeTakeFirst();
      return updated.numUpdatedRows > 0n;
    },

    async untaggedKeyHashes(createdSince) {
      let query = db.selectFrom('api_keys').select('key_hash').where('tagged', '=', 0).where('revoked_at', 'is', null);
      if (createdSince !== undefined) query = query.where('created_at', '>=', createdSince);
      return (await query.execute()).map((row) => row.key_hash);
    },
  };
}
