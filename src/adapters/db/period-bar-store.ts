import type { Kysely } from 'kysely';
import type { PeriodBarStore, StoredPeriodBar } from '../../app/market-data/period-bars.js';
import type { Period, PeriodBar } from '../../domain/periods.js';
import type { Database } from './database.js';
import { withinTransaction } from './transaction.js';
import { lastPerKey } from './unique-rows.js';

/** Rows per INSERT: 12 columns each, well under SQLite's limit of bound parameters. */
const CHUNK = 500;

/** A vendor's weekly and monthly bars, and when each series was asked, on SQLite or PostgreSQL. */
export function createPeriodBarStore(db: Kysely<Database>): PeriodBarStore {
  return {
    async periodBarsBetween(symbol, period, from, to) {
      const rows = await db
        .selectFrom('period_bars')
        .select(['date', 'open', 'high', 'low', 'close', 'volume', 'adjusted_close', 'dividend', 'source', 'fetched_at'])
        .where('symbol', '=', symbol)
        .where('period', '=', period)
        .where('date', '>=', from)
        .where('date', '<=', to)
        .orderBy('date')
        .execute();
      return rows.map(({ adjusted_close, ...row }): StoredPeriodBar => ({ ...row, adjustedClose: adjusted_close }));
    },

    async lastFetch(symbol, period) {
      const row = await db
        .selectFrom('period_fetches')
        .select(['last_attempt_at', 'outcome', 'source', 'through'])
        .where('symbol', '=', symbol)
        .where('period', '=', period)
        .executeTakeFirst();
      return row && { at: Number(row.last_attempt_at), outcome: row.outcome, through: row.through, ...(row.source !== null && { source: row.source }) };
    },

    async saveFetch(symbol, period, fetch, bars) {
      await withinTransaction(db, async (trx) => {
        // An answer with bars is the vendor's whole series: it takes the place of the one stored. One without keeps it.
        if (fetch.outcome === 'bars') {
          await trx.deleteFrom('period_bars').where('symbol', '=', symbol).where('period', '=', period).execute();
          await insertBars(trx, symbol, period, bars, fetch.source ?? '', fetch.at);
        }
        const record = { last_attempt_at: fetch.at, outcome: fetch.outcome, source: fetch.source ?? null, through: fetch.through };
        await trx
          .insertInto('period_fetches')
          .values({ symbol, period, ...record })
          .onConflict((oc) => oc.columns(['symbol', 'period']).doUpdateSet(record))
          .execute();
      });
    },
  };
}

async function insertBars(trx: Kysely<Database>, symbol: string, period: Period, given: PeriodBar[], source: string, fetchedAt: number) {
  // A vendor answering one date twice must not fail on PostgreSQL only (see unique-rows.ts).
  const bars = lastPerKey(given, (bar) => bar.date);
  for (let i = 0; i < bars.length; i += CHUNK) {
    const rows = bars.slice(i, i + CHUNK).map(({ date, open, high, low, close, volume, adjustedClose, dividend }) => ({
      symbol,
      period,
      date,
      open,
      high,
      low,
      close,
      volume,
      adjusted_close: adjustedClose,
      dividend,
      source,
      fetched_at: fetchedAt,
    }));
    await trx.insertInto('period_bars').values(rows).execute();
  }
}
