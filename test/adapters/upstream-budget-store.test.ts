import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/adapters/db/connect.js';
import { migrateToLatest } from '../../src/adapters/db/migrate.js';
import { createBudgetStore } from '../../src/adapters/db/upstream-budget-store.js';
import { createUpstreamBudget } from '../../src/app/market-data/upstream-budget.js';
import { parseDatabaseUrl } from '../../src/config.js';
import { createTestDatabase, testEngines } from '../support/engines.js';

const NOW = new Date('2026-11-23T15:00:00Z');

/**
 * Budgets over one fresh database, each on its own connection pool, as separate instances would be:
 * four on PostgreSQL; one on SQLite, which serves one instance (two connections in one thread would
 * wait on each other's lock synchronously).
 */
async function budgetsOnOneDatabase(engine: 'sqlite' | 'postgres', quota: { perDay: number; perMinute: number }) {
  const count = engine === 'postgres' ? 4 : 1;
  const database = await createTestDatabase(engine);
  const dbs = Array.from({ length: count }, () => connectDatabase(parseDatabaseUrl(database.url, 4)));
  await migrateToLatest(dbs[0]!);
  const budgets = dbs.map((db) => createUpstreamBudget(createBudgetStore(db), { vendor: quota }, { fairShare: 0.2, minuteFairShare: 0.5, now: () => NOW }));
  const close = async () => {
    await Promise.all(dbs.map((db) => db.destroy()));
    await database.drop();
  };
  return { budgets, close };
}

describe.each(testEngines())('the upstream budget store on %s', (engine) => {
  it('when 80 refreshes take from a 30-a-day quota at once, then exactly 50 are taken', async () => {
    const { budgets, close } = await budgetsOnOneDatabase(engine, { perDay: 30, perMinute: 0 });
    try {
      const refusals = await Promise.all(
        Array.from({ length: 80 }, (_, i) => budgets[i % budgets.length]!.take('vendor', { client: `c${i}`, refresh: true })),
      );
      expect(refusals.filter((r) => r === undefined)).toHaveLength(30);
      expect(refusals.find((r) => r !== undefined)).toEqual({ reason: 'quota_spent', retryAfterSeconds: 9 * 3600, window: 'day' });
      expect(await budgets[0]!.usage('vendor')).toEqual({ callsToday: 30, dailyLimit: 30, callsThisMinute: 0, minuteLimit: 0 });
    } finally {
      await close();
    }
  });

  it('when one client makes 40 lookups at once, then it gets exactly its fair share', async () => {
    const { budgets, close } = await budgetsOnOneDatabase(engine, { perDay: 25, perMinute: 0 });
    try {
      const refusals = await Promise.all(Array.from({ length: 40 }, (_, i) => budgets[i % budgets.length]!.take('vendor', { client: 'attacker' })));
      expect(refusals.filter((r) => r === undefined)).toHaveLength(5);
      expect(await budgets[0]!.fairShare('vendor', 'attacker')).toEqual({ lookupsToday: 5, lookupsLeft: 0 });
      // Another client: 4 of the 20 left (0 < 4, 1 < 3.8, 2 < 3.6, 3 < 3.4).
      expect(await budgets[0]!.fairShare('vendor', 'someone-else')).toEqual({ lookupsToday: 0, lookupsLeft: 4 });
      expect(await budgets[0]!.usage('vendor')).toEqual({ callsToday: 5, dailyLimit: 25, callsThisMinute: 0, minuteLimit: 0 });
    } finally {
      await close();
    }
  });

  it("when one client makes 20 lookups at once against 6 a minute, then it gets half the minute's calls left, others still get theirs, and the next minute gives it more", async () => {
    let now = NOW;
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 4));
    try {
      await migrateToLatest(db);
      const budget = createUpstreamBudget(createBudgetStore(db), { vendor: { perDay: 800, perMinute: 6 } }, { fairShare: 0.2, minuteFairShare: 0.5, now: () => now });
      const refusals = await Promise.all(Array.from({ length: 20 }, () => budget.take('vendor', { client: 'greedy' })));
      // 0 < 3 (6 left), 1 < 2.5 (5 left), 2 < 2 refused.
      expect(refusals.filter((r) => r === undefined)).toHaveLength(2);
      expect(refusals.find((r) => r !== undefined)).toEqual({ reason: 'fair_share', retryAfterSeconds: 60, window: 'minute' });
      // Another client: 0 < 2 (4 left), 1 < 1.5 (3 left), 2 < 1 refused; a refresh still gets a call.
      const others = [await budget.take('vendor', { client: 'other' }), await budget.take('vendor', { client: 'other' }), await budget.take('vendor', { client: 'other' })];
      expect(others.map((r) => r?.reason)).toEqual([undefined, undefined, 'fair_share']);
      expect(await budget.take('vendor', { client: 'greedy', refresh: true })).toBeUndefined();
      now = new Date(NOW.getTime() + 60_000);
      expect(await budget.take('vendor', { client: 'greedy' })).toBeUndefined();
      expect(await db.selectFrom('upstream_minute_lookups').select(['client', 'lookups']).execute()).toEqual([{ client: 'greedy', lookups: 1 }]);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
