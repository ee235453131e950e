import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { describe, expect, inject, it, vi } from 'vitest';
import { connectDatabase } from '../src/adapters/db/connect.js';
import type { Database } from '../src/adapters/db/database.js';
import { migrateToLatest } from '../src/adapters/db/migrate.js';
import { parseDatabaseUrl } from '../src/config.js';
import { createTestDatabase, testEngines } from './support/engines.js';
import { PROCESS_TEST_TIMEOUT_MS, runEntry } from './support/process.js';

// Every test here runs the CLI as a process: slow to start on a busy machine.
vi.setConfig({ testTimeout: PROCESS_TEST_TIMEOUT_MS });

// Adj Close is 0.98 × Close before 2022-08-09 and equal after: 130 × (1 − 0.98) = 2.6 went ex on the 9th.
const YAHOO_WITH_DIVIDEND = [
  'Date,Open,High,Low,Close,Adj Close,Volume',
  '2022-08-08,130.000000,131.000000,129.000000,130.000000,127.400000,100',
  '2022-08-09,131.000000,132.000000,130.000000,131.000000,131.000000,200',
  '2022-08-10,132.000000,133.000000,131.000000,132.000000,132.000000,300',
].join('\n');
const STOOQ = 'Date,Open,High,Low,Close,Volume\n2022-08-08,130,131,129,130,100\n2022-08-09,131,132,130,131,200\n';

function csvFile(name: string, text: string): string {
  const path = join(inject('sqliteDir'), `${name}-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, text);
  return path;
}

describe.each(testEngines())('npm run cli -- import-prices with actions on %s', (engine) => {
  async function withDatabase(test: (url: string, db: Kysely<Database>) => Promise<void>): Promise<void> {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    try {
      await test(database.url, db);
    } finally {
      await db.destroy();
      await database.drop();
    }
  }

  async function importPrices(url: string, args: string[]) {
    const run = runEntry('src/cli.ts', { DATABASE_URL: url }, ['import-prices', ...args]);
    return { code: await run.exited, output: run.output() };
  }

  const stored = async (db: Kysely<Database>) => ({
    bars: (await db.selectFrom('daily_bars').select(['symbol', 'date', 'close']).orderBy('date').execute()).length,
    splits: await db.selectFrom('splits').select(['symbol', 'date', 'factor', 'source']).orderBy('date').execute(),
    dividends: await db.selectFrom('dividends').select(['symbol', 'ex_date', 'amount', 'source']).orderBy('ex_date').execute(),
  });

  it('when a Yahoo CSV is imported, then the dividends its Adj Close implies are stored with the bars, and no upstream attempt', async () => {
    await withDatabase(async (url, db) => {
      const { code, output } = await importPrices(url, [csvFile('yahoo', YAHOO_WITH_DIVIDEND), '--symbol', 'ibm']);
      expect(code, output).toBe(0);
      expect(output).toMatch(/The Adj Close column implied 1 dividend\./);
      expect(await stored(db)).toEqual({
        bars: 3,
        splits: [],
        dividends: [{ symbol: 'IBM', ex_date: '2022-08-09', amount: '2.6000', source: 'import' }],
      });
      expect(await db.selectFrom('action_refreshes').selectAll().execute()).toEqual([]);
    });
  });

  it('when a Stooq CSV is imported, then no dividend is implied: it has no adjusted close', async () => {
    await withDatabase(async (url, db) => {
      const { code, output } = await importPrices(url, [csvFile('stooq', STOOQ), '--symbol', 'IBM']);
      expect(code, output).toBe(0);
      expect(output).not.toMatch(/implied/);
      expect(await stored(db)).toEqual({ bars: 2, splits: [], dividends: [] });
    });
  });

  it('when splits and dividends files are given, then they are stored, Yahoo ratios as factors, the stated amount over the implied one', async () => {
    await withDatabase(async (url, db) => {
      const splits = csvFile('splits', 'Date,Stock Splits\n2021-11-04,1.046:1\n1999-05-27,2:1\n');
      const dividends = csvFile('dividends', 'ex_date,amount\n2022-05-09,1.65\n2022-08-09,1.65\n');
      const { code, output } = await importPrices(url, [csvFile('yahoo', YAHOO_WITH_DIVIDEND), '--symbol', 'IBM', '--splits', splits, '--dividends', dividends]);
      expect(code, output).toBe(0);
      expect(output).toMatch(/Imported 2 splits from .*\nImported 2 dividends from /);
      expect(await stored(db)).toEqual({
        bars: 3,
        splits: [
          { symbol: 'IBM', date: '1999-05-27', factor: '2', source: 'import' },
          { symbol: 'IBM', date: '2021-11-04', factor: '1.046', source: 'import' },
        ],
        dividends: [
          { symbol: 'IBM', ex_date: '2022-05-09', amount: '1.65', source: 'import' },
          { symbol: 'IBM', ex_date: '2022-08-09', amount: '1.65', source: 'import' },
        ],
      });
    });
  });

  it.each([
    ['--splits', 'date,factor\n2020-08-31,4\n2014-06-09,4:1\n', /, line 3: factor "4:1" is not a positive decimal number/],
    ['--splits', 'Date,Stock Splits\n2020-08-31,4-1\n', /, line 2: factor "4-1" is not a positive decimal number/],
    ['--splits', 'when,ratio\n2020-08-31,4\n', /, line 1: unknown header; expected a header date,factor or date,stock splits/],
    ['--dividends', 'ex_date,amount\n2022-02-30,1.65\n', /, line 2: ex_date "2022-02-30" is not a YYYY-MM-DD calendar date/],
    ['--dividends', 'ex_date,amount\n2022-05-09,1.65\n2022-05-09,1.66\n', /, line 3: date 2022-05-09 repeats line 2/],
    ['--dividends', 'ex_date,amount\n2022-05-09,-1\n', /, line 2: amount "-1" is not a positive decimal number/],
    ['--splits', `date,factor\n2020-08-31,4\n2014-06-09,${'9'.repeat(32)}\n`, /, line 3: factor 9{32} is outside 0\.0001 \(1-for-10,000\) to 10000 \(10,000-for-1\)/],
    ['--splits', 'date,factor\n2020-08-31,0.00001\n', /, line 2: factor 0\.00001 is outside 0\.0001/],
    // Each allowed alone; from 2001 on they multiply to 10^8.
    ['--splits', 'date,factor\n2001-01-03,10000\n2002-01-03,10000\n2003-01-03,10000\n', /, line 3: the splits from 2002-01-03 on multiply to 100000000, outside 0\.000000001 to 10000000/],
  ])('when the %s file has a bad row (%j), then nothing is imported and the file, line and field are named', async (flag, text, message) => {
    await withDatabase(async (url, db) => {
      const actions = csvFile('bad-actions', text);
      const { code, output } = await importPrices(url, [csvFile('stooq', STOOQ), '--symbol', 'IBM', flag, actions]);
      expect(code, output).toBe(1);
      // The last line, after the progress of the prices file read (on stderr).
      expect(output).toMatch(/^Nothing imported: .*\n$/m);
      expect(output).toContain(`${actions}, line`);
      expect(output).toMatch(message);
      await migrateToLatest(db);
      expect(await stored(db)).toEqual({ bars: 0, splits: [], dividends: [] });
    });
  });

  it('when a Yahoo Adj Close is not a number, then nothing is imported and the line is named', async () => {
    await withDatabase(async (url, db) => {
      const text = 'Date,Open,High,Low,Close,Adj Close,Volume\n2022-08-08,1,2,0.5,1.5,1.4,10\n2022-08-09,1,2,0.5,1.5,null,10\n';
      const { code, output } = await importPrices(url, [csvFile('yahoo-bad', text), '--symbol', 'IBM']);
      expect(code, output).toBe(1);
      expect(output).toMatch(/^Nothing imported: line 3: adj close "null" is not a decimal number/);
      await migrateToLatest(db);
      expect(await stored(db)).toEqual({ bars: 0, splits: [], dividends: [] });
    });
  });

  it('when the database refuses an action, then the bars are not stored either: one transaction', async () => {
    await withDatabase(async (url, db) => {
      // A trigger stands in for any failure of the dividends' insert (a full disk, a lost connection).
      await migrateToLatest(db);
      if (engine === 'sqlite') {
        await sql`create trigger refuse_dividends before insert on dividends begin select raise(abort, 'refused'); end`.execute(db);
      } else {
        await sql`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$`.execute(db);
        await sql`create trigger refuse_dividends before insert on dividends for each row execute function refuse()`.execute(db);
      }
      const dividends = csvFile('dividends', 'ex_date,amount\n2022-08-09,1.25\n');
      const { code, output } = await importPrices(url, [csvFile('stooq', STOOQ), '--symbol', 'IBM', '--dividends', dividends]);
      expect(code, output).not.toBe(0);
      expect(output).toMatch(/refused/);
      expect(await stored(db)).toEqual({ bars: 0, splits: [], dividends: [] });
    });
  });

  it('when an amount is longer than the store keeps (32 characters), then it is refused by name, on every engine', async () => {
    await withDatabase(async (url, db) => {
      const dividends = csvFile('long-amount', `ex_date,amount\n2022-05-09,1.${'0'.repeat(40)}1\n`);
      const { code, output } = await importPrices(url, [csvFile('stooq', STOOQ), '--symbol', 'IBM', '--dividends', dividends]);
      expect(code, output).toBe(1);
      expect(output).toMatch(/line 2: amount "1\.0+1" is not a positive decimal number of at most 32 characters/);
      await migrateToLatest(db);
      expect(await stored(db)).toEqual({ bars: 0, splits: [], dividends: [] });
    });
  });
});

describe.each(testEngines())('what an import adds to, replaces or deletes, on %s', (engine) => {
  // Five runs of the CLI, each a process of its own: seconds each on a loaded machine, so a longer ceiling.
  it("when an import adds splits that, with the stored ones, multiply past the bounds, then nothing is imported; --replace starts afresh; delete-prices empties the symbol, a vendor's weekly bars too", { timeout: 150_000 }, async () => {
    const database = await createTestDatabase(engine);
    const db = connectDatabase(parseDatabaseUrl(database.url, 2));
    const cli = async (args: string[]) => {
      const run = runEntry('src/cli.ts', { DATABASE_URL: database.url }, args);
      return { code: await run.exited, output: run.output() };
    };
    const stooq = csvFile('stooq', STOOQ);
    const counts = async () => ({
      bars: (await db.selectFrom('daily_bars').select('date').execute()).length,
      splits: (await db.selectFrom('splits').select('date').execute()).length,
      periods: (await db.selectFrom('period_bars').select('date').execute()).length + (await db.selectFrom('period_fetches').select('symbol').execute()).length,
    });
    try {
      expect((await cli(['import-prices', stooq, '--symbol', 'IBM', '--splits', csvFile('s1', 'date,factor\n2001-01-03,10000\n')])).code).toBe(0);
      const more = csvFile('s2', 'date,factor\n2002-01-03,10000\n');
      const refused = await cli(['import-prices', csvFile('later', 'Date,Open,High,Low,Close,Volume\n2022-08-10,1,2,0.5,1.5,10\n'), '--symbol', 'IBM', '--splits', more]);
      expect(refused.code, refused.output).toBe(1);
      expect(refused.output).toMatch(/^Nothing imported: splits: counting the splits already stored, the splits from 2001-01-03 on multiply to 100000000/m);
      expect(await counts()).toEqual({ bars: 2, splits: 1, periods: 0 });

      const replaced = await cli(['import-prices', stooq, '--symbol', 'IBM', '--splits', more, '--replace']);
      expect(replaced.code, replaced.output).toBe(0);
      expect(replaced.output).toMatch(/Replaced what was stored of IBM\./);
      expect(await db.selectFrom('splits').select(['date', 'factor']).execute()).toEqual([{ date: '2002-01-03', factor: '10000' }]);

      // As an earlier fetch of Alpha Vantage's weekly series left them.
      const week = { symbol: 'IBM', period: 'week' as const, date: '1999-12-31', open: '1', high: '1', low: '1', close: '1', volume: 1, adjusted_close: '1', dividend: '0', source: 'alphavantage', fetched_at: 1 };
      await db.insertInto('period_bars').values(week).execute();
      await db.insertInto('period_fetches').values({ symbol: 'IBM', period: 'week', last_attempt_at: 1, outcome: 'bars', source: 'alphavantage', through: '1999-12-31' }).execute();
      const deleted = await cli(['delete-prices', '--symbol', 'ibm']);
      expect(deleted.code, deleted.output).toBe(0);
      expect(deleted.output).toMatch(/Deleted 2 daily bars and 1 split or dividend of IBM\./);
      expect(await counts()).toEqual({ bars: 0, splits: 0, periods: 0 });
      expect((await cli(['delete-prices', 'IBM'])).code).toBe(2);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});

describe('import-prices usage with actions', () => {
  it('when the arguments are wrong, then the usage names the splits and dividends files', async () => {
    const run = runEntry('src/cli.ts', { DATABASE_URL: `sqlite:${join(inject('sqliteDir'), 'usage-actions.db')}` }, ['import-prices', 'x.csv']);
    expect(await run.exited).toBe(2);
    // One line, pointing to the command's help, which names them.
    expect(run.output()).toBe('import-prices takes one FILE and --symbol SYMBOL (npm run cli -- import-prices --help)\n');
    const help = runEntry('src/cli.ts', {}, ['import-prices', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/\[--splits SPLITS\.csv\] \[--dividends DIVIDENDS\.csv\]/);
  });
});
