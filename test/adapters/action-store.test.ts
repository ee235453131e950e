import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createActionStore } from '../../src/adapters/db/action-store.js';
import { connectDatabase } from '../../src/adapters/db/connect.js';
import type { Database } from '../../src/adapters/db/database.js';
import { migrateToLatest } from '../../src/adapters/db/migrate.js';
import { parseDatabaseUrl } from '../../src/config.js';
import { createTestDatabase, testEngines } from '../support/engines.js';

const UPSTREAM = { source: 'alphavantage', fetchedAt: 1_700_000_000_000, upstreamAttempt: true };
const IMPORT = { source: 'import', fetchedAt: 1_700_000_000_000, upstreamAttempt: false };

describe.each(testEngines())('the action store on %s', (engine) => {
  async function withStore(test: (store: ReturnType<typeof createActionStore>, db: Kysely<Database>) => Promise<void>) {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    try {
      await migrateToLatest(db);
      await test(createActionStore(db, { sandboxSource: 'sandbox', realProviders: true }), db);
    } finally {
      await db.destroy();
      await database.drop();
    }
  }

  it('when nothing is stored, then a symbol has no actions and no attempt', async () => {
    await withStore(async (store) => {
      expect(await store.actions('IBM')).toEqual({ splits: [], dividends: [] });
      expect(await store.lastAttempt('IBM')).toBeUndefined();
    });
  });

  it('when actions are saved in any order, then they read back ascending, per symbol, upserted by date', async () => {
    await withStore(async (store) => {
      await store.saveActions(
        'AAPL',
        { splits: [{ date: '2020-08-31', factor: '4' }, { date: '2014-06-09', factor: '7' }], dividends: [{ exDate: '2024-05-10', amount: '0.25' }, { exDate: '2024-02-09', amount: '0.24' }] },
        UPSTREAM,
      );
      await store.saveActions('IBM', { splits: [], dividends: [{ exDate: '2024-02-08', amount: '1.66' }] }, UPSTREAM);
      // A correction of one dividend, and one more split: the rest stays.
      await store.saveActions('AAPL', { splits: [{ date: '2005-02-28', factor: '2' }], dividends: [{ exDate: '2024-05-10', amount: '0.2500' }] }, { ...UPSTREAM, fetchedAt: UPSTREAM.fetchedAt + 1 });

      expect(await store.actions('AAPL')).toEqual({
        splits: [{ date: '2005-02-28', factor: '2' }, { date: '2014-06-09', factor: '7' }, { date: '2020-08-31', factor: '4' }],
        dividends: [{ exDate: '2024-02-09', amount: '0.24' }, { exDate: '2024-05-10', amount: '0.2500' }],
      });
      expect(await store.actions('IBM')).toEqual({ splits: [], dividends: [{ exDate: '2024-02-08', amount: '1.66' }] });
    });
  });

  it("when several symbols' actions are read at once, then each comes as it would alone, and a symbol with none has empty lists", async () => {
    await withStore(async (store) => {
      await store.saveActions('AAPL', { splits: [{ date: '2020-08-31', factor: '4' }, { date: '2014-06-09', factor: '7' }], dividends: [{ exDate: '2024-05-10', amount: '0.25' }] }, UPSTREAM);
      await store.saveActions('IBM', { splits: [], dividends: [{ exDate: '2024-02-08', amount: '1.66' }] }, IMPORT);
      // More symbols than one statement binds (500 a chunk): the rows of the last chunk are found too.
      const many = [...Array.from({ length: 600 }, (_, i) => `S${i}`), 'IBM', 'NONE', 'AAPL'];
      const read = await store.actionsOf(many);
      expect(read.size).toBe(603);
      expect(read.get('AAPL')).toEqual(await store.actions('AAPL'));
      expect(read.get('IBM')).toEqual({ splits: [], dividends: [{ exDate: '2024-02-08', amount: '1.66' }] });
      expect(read.get('NONE')).toEqual({ splits: [], dividends: [] });
    });
  });

  it('when actions come from upstream, then the attempt is recorded; when imported, it is not', async () => {
    await withStore(async (store) => {
      await store.saveActions('IBM', { splits: [], dividends: [{ exDate: '2024-02-08', amount: '1.66' }] }, IMPORT);
      expect(await store.lastAttempt('IBM')).toBeUndefined();

      await store.saveActions('IBM', { splits: [], dividends: [] }, UPSTREAM);
      expect(await store.lastAttempt('IBM')).toEqual({ at: UPSTREAM.fetchedAt, outcome: 'actions' });

      await store.recordUnknown('IBM', UPSTREAM.fetchedAt + 5);
      expect(await store.lastAttempt('IBM')).toEqual({ at: UPSTREAM.fetchedAt + 5, outcome: 'unknown' });
    });
  });

  it('when one row of a save fails, then nothing of it is stored, the attempt neither', async () => {
    await withStore(async (store, db) => {
      const broken = { splits: [{ date: '2020-08-31', factor: '4' }], dividends: [{ exDate: '2024-02-08', amount: null as unknown as string }] };
      await expect(store.saveActions('IBM', broken, UPSTREAM)).rejects.toThrow();
      expect(await store.actions('IBM')).toEqual({ splits: [], dividends: [] });
      expect(await db.selectFrom('action_refreshes').selectAll().execute()).toEqual([]);
    });
  });
});
