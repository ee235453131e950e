import { type Kysely } from 'kysely';
import type { ServedRequestsStore } from '../../app/served-requests.js';
import type { Database } from './database.js';

/** Requests served per day on SQLite or PostgreSQL: one upsert-increment per flush, atomic on both. */
export function createServedRequestsStore(db: Kysely<Database>): ServedRequestsStore {
  return {
    async add(dayStart, requests) {
      await db
        .insertInto('served_requests')
        .values({ day_start: dayStart, requests })
        .onConflict((oc) => oc.column('day_start').doUpdateSet((eb) => ({ requests: eb('served_requests.requests', '+', requests) })))
        .execute();
    },

    async count(dayStart) {
      const row = await db.selectFrom('served_requests').select('requests').where('day_start', '=', dayStart).executeTakeFirst();
      return row?.requests ?? 0;
    },
  };
}
