import { type Kysely, sql, type Transaction } from 'kysely';
import type { BudgetStore, LookupTake, TakeOutcome, WindowTake } from '../../app/market-data/upstream-budget.js';
import type { Database } from './database.js';

/** Thrown inside the take's transaction to roll it back; says what refused. */
class Refused extends Error {
  constructor(readonly outcome: Exclude<TakeOutcome, 'taken'>) {
    super(`refused by the ${outcome.window}'s ${outcome.refusedBy}`);
  }
}

const DAY_MS = 86_400_000;

/**
 * Provider call counts on SQLite or PostgreSQL. A take is one transaction of
 * conditional upserts (`… on conflict do update … where calls < limit`): on
 * PostgreSQL the day row's lock orders concurrent takes of every instance, so
 * no count ever passes its limit; SQLite has one writer at a time anyway.
 */
export function createBudgetStore(db: Kysely<Database>): BudgetStore {
  return {
    async take(provider, windows, lookups) {
      try {
        await db.transaction().execute(async (trx) => {
          for (const window of windows) {
            const calls = await countCall(trx, provider, window);
            if (calls === undefined) throw new Refused({ refusedBy: 'quota', window: window.window });
            if (calls === 1) await forgetOldWindows(trx, provider, window);
            for (const lookup of lookups) await countLookup(trx, provider, window, calls, lookup);
          }
        });
        return 'taken';
      } catch (error) {
        if (error instanceof Refused) return error.outcome;
        throw error;
      }
    },

    async exhaust(provider, { window, start, limit }) {
      await db
        .insertInto('upstream_calls')
        .values({ provider, window, window_start: start, calls: limit })
        .onConflict((oc) =>
          oc.columns(['provider', 'window', 'window_start']).doUpdateSet({
            calls: sql<number>`case when upstream_calls.calls < ${limit} then ${limit} else upstream_calls.calls end`,
          }),
        )
        .execute();
    },

    async calls(provider, window, start) {
      const row = await db
        .selectFrom('upstream_calls')
        .select('calls')
        .where('provider', '=', provider)
        .where('window', '=', window)
        .where('window_start', '=', start)
        .executeTakeFirst();
      return row?.calls ?? 0;
    },

    lookups: (provider, client, dayStart) => dayLookups(db, provider, dayStart, client),
  };
}

/** Adds one call to the window if it has room; the new count, or undefined when it had none. */
async function countCall(trx: Transaction<Database>, provider: string, { window, start, limit, reserve }: WindowTake) {
  const room = limit - reserve;
  if (room < 1) return undefined;
  const row = await trx
    .insertInto('upstream_calls')
    .values({ provider, window, window_start: start, calls: 1 })
    .onConflict((oc) =>
      oc
        .columns(['provider', 'window', 'window_start'])
        .doUpdateSet((eb) => ({ calls: eb('upstream_calls.calls', '+', 1) }))
        .where('upstream_calls.calls', '<', room),
    )
    .returning('calls')
    .executeTakeFirst();
  return row?.calls;
}

/**
 * Counts a lookup for the client in the window if its fair share of it allows. The window's row,
 * updated just before in this transaction, is locked until it ends, so no other take of this provider
 * reads or writes these counts meanwhile.
 */
async function countLookup(trx: Transaction<Database>, provider: string, window: WindowTake, callsNow: number, lookup: LookupTake) {
  const lookupsBefore = await (window.window === 'day' ? dayLookups(trx, provider, window.start, lookup.client) : minuteLookups(trx, provider, window.start, lookup.client));
  if (!lookup.allowed(window.window, lookupsBefore, window.limit - (callsNow - 1))) throw new Refused({ refusedBy: 'fair_share', window: window.window });
  if (window.window === 'day') {
    await trx
      .insertInto('upstream_lookups')
      .values({ provider, day_start: window.start, client: lookup.client, lookups: 1 })
      .onConflict((oc) => oc.columns(['provider', 'day_start', 'client']).doUpdateSet((eb) => ({ lookups: eb('upstream_lookups.lookups', '+', 1) })))
      .execute();
    return;
  }
  await trx
    .insertInto('upstream_minute_lookups')
    .values({ provider, minute_start: window.start, client: lookup.client, lookups: 1 })
    .onConflict((oc) => oc.columns(['provider', 'minute_start', 'client']).doUpdateSet((eb) => ({ lookups: eb('upstream_minute_lookups.lookups', '+', 1) })))
    .execute();
}

async function dayLookups(db: Kysely<Database>, provider: string, dayStart: number, client: string): Promise<number> {
  const row = await db
    .selectFrom('upstream_lookups')
    .select('lookups')
    .where('provider', '=', provider)
    .where('day_start', '=', dayStart)
    .where('client', '=', client)
    .executeTakeFirst();
  return row?.lookups ?? 0;
}

async function minuteLookups(db: Kysely<Database>, provider: string, minuteStart: number, client: string): Promise<number> {
  const row = await db
    .selectFrom('upstream_minute_lookups')
    .select('lookups')
    .where('provider', '=', provider)
    .where('minute_start', '=', minuteStart)
    .where('client', '=', client)
    .executeTakeFirst();
  return row?.lookups ?? 0;
}

/**
 * On a provider's first call of a day, yesterday's and older counts are dropped; on its first call of a
 * minute, the earlier minutes' lookups: nothing reads them.
 */
async function forgetOldWindows(trx: Transaction<Database>, provider: string, { window, start }: WindowTake) {
  if (window === 'minute') {
    await trx.deleteFrom('upstream_minute_lookups').where('provider', '=', provider).where('minute_start', '<', start).execute();
    return;
  }
  const before = start - DAY_MS;
  await trx.deleteFrom('upstream_calls').where('provider', '=', provider).where('window_start', '<', before).execute();
  await trx.deleteFrom('upstream_lookups').where('provider', '=', provider).where('day_start', '<', before).execute();
}
