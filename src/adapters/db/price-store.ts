import type { Kysely } from 'kysely';
import { IMPORT_SOURCE } from '../../app/import-prices.js';
import type { PriceStore, StoredBar } from '../../app/quotes.js';
import type { DailyBar } from '../../domain/quote.js';
import type { Database } from './database.js';
import { withinTransaction } from './transaction.js';

const BAR_COLUMNS = ['date', 'open', 'high', 'low', 'close', 'volume', 'source', 'fetched_at'] as const;
/** Rows per INSERT: well under SQLite's limit of bound parameters. */
const CHUNK = 500;

/**
 * Daily bars on SQLite or PostgreSQL. `ignoredSource` hides bars of one source
 * from every read: sandbox bars must never be served as real data once a real
 * provider is configured.
 */
export function createPriceStore(db: Kysely<Database>, options: { ignoredSource?: string } = {}): PriceStore {
  const bars = (symbol: string) => {
    let query = db.selectFrom('daily_bars').select(BAR_COLUMNS).where('symbol', '=', symbol);
    if (options.ignoredSource) query = query.where('source', '<>', options.ignoredSource);
    return query;
  };

  return {
    async recentBars(symbol, limit) {
      return bars(symbol).orderBy('date', 'desc').limit(limit).execute();
    },

    async barsBetween(symbol, from, to) {
      return bars(symbol).where('date', '>=', from).where('date', '<=', to).orderBy('date').execute();
    },

    async lastAttempt(symbol) {
      const row = await db
        .selectFrom('symbol_refreshes')
        .select(['last_attempt_at', 'outcome'])
        .where('symbol', '=', symbol)
        .executeTakeFirst();
      return row && { at: Number(row.last_attempt_at), outcome: row.outcome };
    },

    async saveBars(symbol, newBars, source, fetchedAt) {
      await withinTransaction(db, async (trx) => {
        for (let i = 0; i < newBars.length; i += CHUNK) {
          const rows = newBars.slice(i, i + CHUNK).map((bar: DailyBar) => ({ symbol, ...pickBar(bar), source, fetched_at: fetchedAt }));
          await trx
            .insertInto('daily_bars')
            .values(rows)
            .onConflict((oc) =>
              oc.columns(['symbol', 'date']).doUpdateSet((eb) => ({
                open: eb.ref('excluded.open'),
                high: eb.ref('excluded.high'),
                low: eb.ref('excluded.low'),
                close: eb.ref('excluded.close'),
                volume: eb.ref('excluded.volume'),
                source: eb.ref('excluded.source'),
                fetched_at: eb.ref('excluded.fetched_at'),
              })),
            )
            .execute();
        }
        if (source !== IMPORT_SOURCE) await recordAttempt(trx, symbol, 'bars', fetchedAt);
      });
    },

    async recordUnknown(symbol, at) {
      await recordAttempt(db, symbol, 'unknown', at);
    },
  };
}

function pickBar({ date, open, high, low, close, volume }: DailyBar): DailyBar {
  return { date, open, high, low, close, volume };
}

async function recordAttempt(db: Kysely<Database>, symbol: string, outcome: 'bars' | 'unknown', at: number) {
  await db
    .insertInto('symbol_refreshes')
    .values({ symbol, last_attempt_at: at, outcome })
    .onConflict((oc) => oc.column('symbol').doUpdateSet({ last_attempt_at: at, outcome }))
    .execute();
}
