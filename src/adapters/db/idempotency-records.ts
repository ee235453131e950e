import type { Kysely } from 'kysely';
import type { IdempotencyRecords, IdempotentTransaction } from '../../app/idempotency.js';
import type { AccountStore } from '../../app/accounts.js';
import type { TradeLedger } from '../../app/trades.js';
import { createAccountStore } from './account-store.js';
import type { Database } from './database.js';
import { createTradeLedger } from './trade-ledger.js';

/** The records of idempotent writes, on `db` (a transaction, so they commit with the write). */
export function createIdempotencyRecords(db: Kysely<Database>): IdempotencyRecords {
  return {
    async pruneExpired(now, limit) {
      // Row values with a bounded subquery: DELETE … LIMIT is not portable.
      await db
        .deleteFrom('idempotency_keys')
        .where(({ eb, refTuple, selectFrom }) =>
          eb(
            refTuple('route', 'key'),
            'in',
            selectFrom('idempotency_keys').select(['route', 'key']).where('expires_at', '<=', now).orderBy('expires_at').limit(limit).$asTuple('route', 'key'),
          ),
        )
        .execute();
    },

    async claim(request, now, expiresAt) {
      await db
        .deleteFrom('idempotency_keys')
        .where('route', '=', request.route)
        .where('key', '=', request.key)
        .where('expires_at', '<=', now)
        .execute();
      // On PostgreSQL, a concurrent uncommitted claim of the key makes this wait for it, then do nothing.
      const inserted = await db
        .insertInto('idempotency_keys')
        .values({ route: request.route, key: request.key, fingerprint: request.fingerprint, status: 0, body: '', created_at: now, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['route', 'key']).doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async keep(request, answer) {
      await db
        .updateTable('idempotency_keys')
        .set({ status: answer.status, body: answer.body })
        .where('route', '=', request.route)
        .where('key', '=', request.key)
        .execute();
    },

    async find(request, now) {
      return db
        .selectFrom('idempotency_keys')
        .select(['fingerprint', 'status', 'body'])
        .where('route', '=', request.route)
        .where('key', '=', request.key)
        .where('expires_at', '>', now)
        .executeTakeFirst();
    },
  };
}

/** A write and its idempotency record in one transaction, the store built on it (see transaction.ts). */
function idempotentTransaction<S>(db: Kysely<Database>, storeOn: (trx: Kysely<Database>) => S): IdempotentTransaction<S> {
  return (work) => db.transaction().execute((trx) => work(storeOn(trx), createIdempotencyRecords(trx)));
}

export function idempotentTrades(db: Kysely<Database>): IdempotentTransaction<TradeLedger> {
  return idempotentTransaction(db, createTradeLedger);
}

export function idempotentAccounts(db: Kysely<Database>): IdempotentTransaction<AccountStore> {
  return idempotentTransaction(db, createAccountStore);
}
