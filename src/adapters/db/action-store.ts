import type { Kysely } from 'kysely';
import type { ActionsOutcome, ActionStore, CorporateActions } from '../../app/market-data/corporate-actions.js';
import type { Database } from './database.js';
import type { PriceStoreOptions } from './price-store.js';
import { withinTransaction } from './transaction.js';
import { lastPerKey } from './unique-rows.js';

/** Rows per INSERT: well under SQLite's limit of bound parameters. */
const CHUNK = 500;

/**
 * Splits and dividends on SQLite or PostgreSQL, under the price store's rule (price-store.ts): the sandbox's
 * synthetic actions fit only its synthetic bars. With a real provider they are hidden from every read; in
 * sandbox mode they are not stored for a symbol that has real (imported) bars or actions, and real actions
 * replace them, so imported history is never adjusted by made-up splits or dividends.
 */
export function createActionStore(db: Kysely<Database>, options: PriceStoreOptions): ActionStore {
  const { sandboxSource } = options;
  const splitsOf = (symbols: string[]) => {
    const query = db.selectFrom('splits').where('symbol', 'in', symbols);
    return options.realProviders ? query.where('source', '<>', sandboxSource) : query;
  };
  const dividendsOf = (symbols: string[]) => {
    const query = db.selectFrom('dividends').where('symbol', 'in', symbols);
    return options.realProviders ? query.where('source', '<>', sandboxSource) : query;
  };

  async function hasRealData(trx: Kysely<Database>, symbol: string): Promise<boolean> {
    const real = (table: 'daily_bars' | 'splits' | 'dividends') =>
      trx.selectFrom(table).select('symbol').where('symbol', '=', symbol).where('source', '<>', sandboxSource).limit(1).executeTakeFirst();
    const found = await Promise.all([real('daily_bars'), real('splits'), real('dividends')]);
    return found.some((row) => row !== undefined);
  }

  return {
    async actions(symbol) {
      const [splits, dividends] = await Promise.all([
        splitsOf([symbol]).select(['date', 'factor']).orderBy('date').execute(),
        dividendsOf([symbol]).select(['ex_date', 'amount']).orderBy('ex_date').execute(),
      ]);
      return { splits, dividends: dividends.map((d) => ({ exDate: d.ex_date, amount: d.amount })) };
    },

    async actionsOf(symbols) {
      const found = new Map<string, CorporateActions>(symbols.map((symbol) => [symbol, { splits: [], dividends: [] }]));
      for (let i = 0; i < symbols.length; i += CHUNK) {
        const chunk = symbols.slice(i, i + CHUNK);
        const [splits, dividends] = await Promise.all([
          splitsOf(chunk).select(['symbol', 'date', 'factor']).orderBy('symbol').orderBy('date').execute(),
          dividendsOf(chunk).select(['symbol', 'ex_date', 'amount']).orderBy('symbol').orderBy('ex_date').execute(),
        ]);
        for (const { symbol, date, factor } of splits) found.get(symbol)?.splits.push({ date, factor });
        for (const { symbol, ex_date, amount } of dividends) found.get(symbol)?.dividends.push({ exDate: ex_date, amount });
      }
      return found;
    },

    async saveActions(symbol, actions, { source, fetchedAt, upstreamAttempt }) {
      await withinTransaction(db, async (trx) => {
        const synthetic = source === sandboxSource;
        if (!synthetic) {
          await trx.deleteFrom('splits').where('symbol', '=', symbol).where('source', '=', sandboxSource).execute();
          await trx.deleteFrom('dividends').where('symbol', '=', symbol).where('source', '=', sandboxSource).execute();
        }
        if (!synthetic || !(await hasRealData(trx, symbol))) {
          await upsertSplits(trx, symbol, actions.splits, { source, fetched_at: fetchedAt });
          await upsertDividends(trx, symbol, actions.dividends, { source, fetched_at: fetchedAt });
        }
        if (upstreamAttempt) await recordAttempt(trx, symbol, 'actions', fetchedAt);
      });
    },

    async lastAttempt(symbol) {
      const row = await db
        .selectFrom('action_refreshes')
        .select(['last_attempt_at', 'outcome'])
        .where('symbol', '=', symbol)
        .executeTakeFirst();
      return row && { at: Number(row.last_attempt_at), outcome: row.outcome };
    },

    async recordUnknown(symbol, at) {
      await recordAttempt(db, symbol, 'unknown', at);
    },

    async deleteActions(symbol) {
      return withinTransaction(db, async (trx) => {
        const splits = await trx.deleteFrom('splits').where('symbol', '=', symbol).executeTakeFirst();
        const dividends = await trx.deleteFrom('dividends').where('symbol', '=', symbol).executeTakeFirst();
        await trx.deleteFrom('action_refreshes').where('symbol', '=', symbol).execute();
        return Number(splits.numDeletedRows) + Number(dividends.numDeletedRows);
      });
    },
  };
}

type Provenance = { source: string; fetched_at: number };

async function upsertSplits(trx: Kysely<Database>, symbol: string, given: CorporateActions['splits'], provenance: Provenance) {
  const splits = lastPerKey(given, (split) => split.date);
  for (let i = 0; i < splits.length; i += CHUNK) {
    const rows = splits.slice(i, i + CHUNK).map(({ date, factor }) => ({ symbol, date, factor, ...provenance }));
    await trx
      .insertInto('splits')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['symbol', 'date']).doUpdateSet((eb) => ({
          factor: eb.ref('excluded.factor'),
          source: eb.ref('excluded.source'),
          fetched_at: eb.ref('excluded.fetched_at'),
        })),
      )
      .execute();
  }
}

async function upsertDividends(trx: Kysely<Database>, symbol: string, given: CorporateActions['dividends'], provenance: Provenance) {
  const dividends = lastPerKey(given, (dividend) => dividend.exDate);
  for (let i = 0; i < dividends.length; i += CHUNK) {
    const rows = dividends.slice(i, i + CHUNK).map(({ exDate, amount }) => ({ symbol, ex_date: exDate, amount, ...provenance }));
    await trx
      .insertInto('dividends')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['symbol', 'ex_date']).doUpdateSet((eb) => ({
          amount: eb.ref('excluded.amount'),
          source: eb.ref('excluded.source'),
          fetched_at: eb.ref('excluded.fetched_at'),
        })),
      )
      .execute();
  }
}

async function recordAttempt(db: Kysely<Database>, symbol: string, outcome: ActionsOutcome, at: number) {
  await db
    .insertInto('action_refreshes')
    .values({ symbol, last_attempt_at: at, outcome })
    .onConflict((oc) => oc.column('symbol').doUpdateSet({ last_attempt_at: at, outcome }))
    .execute();
}
