import { type Kysely, sql } from 'kysely';
import type { DemandStore } from '../../app/market-data/demand.js';
import type { Database } from './database.js';

/**
 * Symbol demand on SQLite or PostgreSQL: a flush is one multi-row upsert
 * that adds to each (symbol, day) count, so instances flushing at once add
 * up rather than overwrite each other.
 */
export function createDemandStore(db: Kysely<Database>): DemandStore {
  return {
    async add(counts) {
      if (counts.length === 0) return;
      await db
        .insertInto('symbol_demand')
        .values(counts.map((c) => ({ symbol: c.symbol, day: c.day, requests: c.requests, last_asked_at: c.lastAskedAt })))
        .onConflict((oc) =>
          oc.columns(['symbol', 'day']).doUpdateSet((eb) => ({
            requests: eb('symbol_demand.requests', '+', eb.ref('excluded.requests')),
            // max() of two values is spelled differently by each engine (greatest, max): a case is the same on both.
            last_asked_at: sql<number>`case when excluded.last_asked_at > symbol_demand.last_asked_at then excluded.last_asked_at else symbol_demand.last_asked_at end`,
          })),
        )
        .execute();
    },

    async mostRequested(sinceDay, limit, offset) {
      const rows = await db
        .selectFrom('symbol_demand')
        .select((eb) => ['symbol', eb.fn.sum<number>('requests').as('requests'), eb.fn.max('last_asked_at').as('last_asked_at')])
        .where('day', '>=', sinceDay)
        .groupBy('symbol')
        .orderBy('requests', 'desc')
        .orderBy('last_asked_at', 'desc')
        .orderBy('symbol')
        .limit(limit)
        .offset(offset)
        .execute();
      return rows.map((row) => ({ symbol: row.symbol, requests: Number(row.requests) }));
    },

    async forgetBefore(day) {
      await db.deleteFrom('symbol_demand').where('day', '<', day).execute();
    },
  };
}
