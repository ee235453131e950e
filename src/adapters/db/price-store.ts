import type { Kysely } from 'kysely';
import type { PriceStore } from '../../app/market-data/prices.js';
import type { DailyBar } from '../../domain/quote.js';
import type { Database } from './database.js';
import { withinTransaction } from './transaction.js';
import { lastPerKey } from './unique-rows.js';

const BAR_COLUMNS = ['date', 'open', 'high', 'low', 'close', 'volume', 'source', 'fetched_at'] as const;
/** Rows per INSERT: well under SQLite's limit of bound parameters. */
const CHUNK = 500;

export interface PriceStoreOptions {
  /** The source name of synthetic bars (the offline sandbox). */
  sandboxSource: string;
  /** A real provider is configured: sandbox bars left from an earlier keyless run are never read. */
  realProviders: boolean;
}

/**
 * Daily bars on SQLite or PostgreSQL. The one home of the rule "sandbox bars
 * are never served as real data": with a real provider they are hidden from
 * every read; in sandbox mode they are never stored beside real (imported)
 * bars of a symbol, and real bars replace them, so a series is never a mix.
 */
export function createPriceStore(db: Kysely<Database>, options: PriceStoreOptions): PriceStore {
  const { sandboxSource } = options;
  const bars = (symbol: string) => {
    let query = db.selectFrom('daily_bars').select(BAR_COLUMNS).where('symbol', '=', symbol);
    if (options.realProviders) query = query.where('source', '<>', sandboxSource);
    return query;
  };

  async function hasRealBars(trx: Kysely<Database>, symbol: string): Promise<boolean> {
    const row = await trx
      .selectFrom('daily_bars')
      .select('date')
      .where('symbol', '=', symbol)
      .where('source', '<>', sandboxSource)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  return {
    async recentBars(symbol, limit) {
      const newestFirst = bars(symbol).orderBy('date', 'desc');
      return (limit === undefined ? newestFirst : newestFirst.limit(limit)).execute();
    },

    async oldestBarDate(symbol) {
      const row = await bars(symbol).orderBy('date').limit(1).executeTakeFirst();
      return row?.date;
    },

    async barsBetween(symbol, from, to) {
      return bars(symbol).where('date', '>=', from).where('date', '<=', to).orderBy('date').execute();
    },

    async refreshState(symbol) {
      const row = await db
        .selectFrom('symbol_refreshes')
        .select(['last_attempt_at', 'outcome', 'currency', 'deep_fetched_at'])
        .where('symbol', '=', symbol)
        .executeTakeFirst();
      return (
        row && {
          at: Number(row.last_attempt_at),
          outcome: row.outcome,
          currency: row.currency ?? undefined,
          ...(row.deep_fetched_at !== null && { deepFetchedAt: Number(row.deep_fetched_at) }),
        }
      );
    },

    async saveBars(symbol, newBars, origin) {
      await withinTransaction(db, async (trx) => {
        const synthetic = origin.source === sandboxSource;
        if (!synthetic) {
          await trx.deleteFrom('daily_bars').where('symbol', '=', symbol).where('source', '=', sandboxSource).execute();
          // The sandbox's splits and dividends fit only its own bars (action-store.ts): they go with them.
          await trx.deleteFrom('splits').where('symbol', '=', symbol).where('source', '=', sandboxSource).execute();
          await trx.deleteFrom('dividends').where('symbol', '=', symbol).where('source', '=', sandboxSource).execute();
        }
        if (!synthetic || !(await hasRealBars(trx, symbol))) await upsertBars(trx, symbol, newBars, origin.source, origin.fetchedAt);
        if (origin.upstreamAttempt) await recordAttempt(trx, symbol, 'bars', origin.fetchedAt, origin.currency, origin.deep);
      });
    },

    async recordUnknown(symbol, at) {
      await recordAttempt(db, symbol, 'unknown', at);
    },

    async deleteBars(symbol) {
      return withinTransaction(db, async (trx) => {
        const deleted = await trx.deleteFrom('daily_bars').where('symbol', '=', symbol).executeTakeFirst();
        await trx.deleteFrom('symbol_refreshes').where('symbol', '=', symbol).execute();
        // A vendor's weekly and monthly bars go too: left, they would stand for history the symbol no longer has.
        await trx.deleteFrom('period_bars').where('symbol', '=', symbol).execute();
        await trx.deleteFrom('period_fetches').where('symbol', '=', symbol).execute();
        return Number(deleted.numDeletedRows);
      });
    },
  };
}

async function upsertBars(trx: Kysely<Database>, symbol: string, given: DailyBar[], source: string, fetchedAt: number) {
  const newBars = lastPerKey(given, (bar) => bar.date);
  for (let i = 0; i < newBars.length; i += CHUNK) {
    const rows = newBars.slice(i, i + CHUNK).map((bar) => ({ symbol, ...pickBar(bar), source, fetched_at: fetchedAt }));
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
}

function pickBar({ date, open, high, low, close, volume }: DailyBar): DailyBar {
  return { date, open, high, low, close, volume };
}

async function recordAttempt(db: Kysely<Database>, symbol: string, outcome: 'bars' | 'unknown', at: number, currency?: string, deep?: boolean) {
  // An answer that does not name its currency keeps the one known (an unknown symbol keeps it too), and a
  // shallow refresh keeps the time of the last deep fetch.
  const changes = { last_attempt_at: at, outcome, ...(currency && { currency }), ...(deep && { deep_fetched_at: at }) };
  await db
    .insertInto('symbol_refreshes')
    .values({ symbol, ...changes })
    .onConflict((oc) => oc.column('symbol').doUpdateSet(changes))
    .execute();
}
