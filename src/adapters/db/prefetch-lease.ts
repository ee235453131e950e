import type { Kysely } from 'kysely';
import type { PrefetchLease } from '../../app/market-data/prefetch.js';
import type { Database } from './database.js';

const NAME = 'prefetch';

/**
 * The prefetch's lease as one row. Taking it is one conditional upsert
 * (`insert … on conflict do update … where` the lease is free or already
 * ours, `returning`), atomic on PostgreSQL (the row's lock orders concurrent
 * takes) and on SQLite (one writer at a time): of instances taking it at
 * once, exactly one gets a row back.
 */
export function createPrefetchLease(db: Kysely<Database>): PrefetchLease {
  return {
    async lastSession() {
      const row = await db.selectFrom('prefetch_lease').select('last_session').where('name', '=', NAME).executeTakeFirst();
      return row?.last_session ?? undefined;
    },

    async take(holder, at, until) {
      const row = await db
        .insertInto('prefetch_lease')
        .values({ name: NAME, holder, expires_at: until, last_session: null })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ holder, expires_at: until })
            .where((eb) => eb.or([eb('prefetch_lease.holder', '=', holder), eb('prefetch_lease.expires_at', '<=', at)])),
        )
        .returning('last_session')
        .executeTakeFirst();
      return row && { lastSession: row.last_session ?? undefined };
    },

    async renew(holder, until) {
      const result = await db
        .updateTable('prefetch_lease')
        .set({ expires_at: until })
        .where('name', '=', NAME)
        .where('holder', '=', holder)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async release(holder, at, completed) {
      await db
        .updateTable('prefetch_lease')
        .set({ expires_at: at, ...(completed !== undefined && { last_session: completed }) })
        .where('name', '=', NAME)
        .where('holder', '=', holder)
        .execute();
    },
  };
}
