import { type Kysely, sql, type Transaction } from 'kysely';
import type { BudgetStore, LookupTake, WindowTake } from '../../app/market-data/upstream-budget.js';
import type { QuotaWindow } from '../../domain/upstream-quota.js';
import type { Database } from './database.js';

/** Thrown inside the take's transaction to roll it back; says what refused. */
class Refused extends Error {
  constructor(readonly by: QuotaWindow | 'fair_share') {
    super(`refused by ${by}`);
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
            if (calls === undefined) throw new Refused(window.window);
            if (window.window === 'day' && calls === 1) await forgetOldWindows(trx, provider, window.start);
            if (window.window === 'day') {
              for (const lookup of lookups) await countLookup(trx, provider, window, calls, lookup);
            }
          }
        });
        return 'taken';
      } catch (error) {
        if (error instanceof Refused) return error.by;
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

    async lookups(provider, client, dayStart) {
      const row = await db
        .selectFrom('upstream_lookups')
        .select('lookups')
        .where('provider', '=', provider)
        .where('day_start', '=', dayStart)
        .where('client', '=', client)
        .executeTakeFirst();
      return row?.lookups ?? 0;
    },
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
 * Counts a lookup for the client if its fair share allows. The day row,
 * updated just before in this transaction, is locked until it ends, so no
 * other take of this provider reads or writes these counts meanwhile.
 */
async function countLookup(trx: Transaction<Database>, provider: string, day: WindowTake, callsNow: number, lookup: LookupTake) {
  const key = { provider, day_start: day.start, client: lookup.client };
  const row = await trx
    .selectFrom('upstream_lookups')
    .select('lookups')
    .where('provider', '=', provider)
    .where('day_start', '=', day.start)
    .where('client', '=', lookup.client)
    .executeTakeFirst();
  const lookupsBefore = row?.lookups ?? 0;
  if (!lookup.allowed(lookupsBefore, day.limit - (callsNow - 1))) throw new Refused('fair_share');
  await trx
    .insertInto('upstream_lookups')
    .values({ ...key, lookups: 1 })
    .onConflict((oc) => oc.columns(['provider', 'day_start', 'client']).doUpdateSet((eb) => ({ lookups: eb('upstream_lookups.lookups', '+', 1) })))
    .execute();
}

/** On a provider's first call of a day, yesterday's and older counts are dropped: nothing reads them. */
async function forgetOldWindows(trx: Transaction<Database>, provider: string, dayStart: number) {
  const before = dayStart - DAY_MS;
  await trx.deleteFrom('upstream_calls').where('provider', '=', provider).where('window_start', '<', before).execute();
  await trx.deleteFrom('upstream_lookups').where('provider', '=', provider).where('day_start', '<', before).execute();
}
