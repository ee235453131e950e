import { describe, expect, it } from 'vitest';
import { connectDatabase } from '../../src/adapters/db/connect.js';
import { migrateToLatest } from '../../src/adapters/db/migrate.js';
import { createPassThroughCache } from '../../src/adapters/db/pass-through-cache.js';
import type { KeptAnswer } from '../../src/app/market-data/pass-through.js';
import { passThroughQuery } from '../../src/domain/alpha-vantage-functions.js';
import { parseDatabaseUrl } from '../../src/config.js';
import { createTestDatabase, testEngines } from '../support/engines.js';

const T0 = Date.UTC(2026, 11, 7, 12);
const overview = (symbol: string) => passThroughQuery('OVERVIEW', [['symbol', symbol]]);
const kept = (body: string, fetchedAt: number, expiresAt = fetchedAt + 86_400_000): KeptAnswer => ({
  answer: { kind: 'data', format: 'json', body },
  source: 'alphavantage',
  fetchedAt,
  expiresAt,
});

describe.each(testEngines())('the pass-through cache on %s', (engine) => {
  async function withCache(test: (cache: ReturnType<typeof createPassThroughCache>) => Promise<void>) {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    try {
      await migrateToLatest(db);
      await test(createPassThroughCache(db));
    } finally {
      await db.destroy();
      await database.drop();
    }
  }

  it('when an answer is kept and kept again, then it reads back as last kept, bodies and times exact', async () => {
    await withCache(async (cache) => {
      const body = JSON.stringify({ Symbol: 'IBM', Name: 'Ünïcødé 🚀', Big: 'x'.repeat(100_000) }, null, 4);
      await cache.put('a'.repeat(64), overview('IBM'), kept('{}', T0));
      await cache.put('a'.repeat(64), overview('IBM'), kept(body, T0 + 1, T0 + 2));
      expect(await cache.get('a'.repeat(64))).toEqual(kept(body, T0 + 1, T0 + 2));
      await cache.put('b'.repeat(64), overview('NOPE'), { answer: { kind: 'too_large' }, source: 'alphavantage', fetchedAt: T0, expiresAt: T0 + 5 });
      expect(await cache.get('b'.repeat(64))).toEqual({ answer: { kind: 'too_large' }, source: 'alphavantage', fetchedAt: T0, expiresAt: T0 + 5 });
      expect(await cache.get('c'.repeat(64))).toBeUndefined();
    });
  });

  it('when pruned, then answers expired before the cut go, and past the bound the oldest fetched go until the rest fit', async () => {
    await withCache(async (cache) => {
      const key = (i: number) => String(i).padStart(64, '0');
      // Ten answers of 100 bytes, fetched a minute apart; the first expired long ago.
      for (let i = 0; i < 10; i++) await cache.put(key(i), overview(`S${i}`), kept('x'.repeat(100), T0 + i * 60_000, i === 0 ? T0 - 1 : T0 + 86_400_000));
      await cache.prune(T0, 10_000);
      expect(await cache.get(key(0))).toBeUndefined();
      expect(await cache.get(key(1))).toBeDefined();
      // Each holds 127 bytes, its body and its call's text (function=OVERVIEW&symbol=S1): room for four, the four fetched last stay.
      await cache.prune(T0, 550);
      const left = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await cache.get(key(i))) !== undefined));
      expect(left).toEqual([false, false, false, false, false, false, true, true, true, true]);
    });
  });
});
