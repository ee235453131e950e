import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it, vi } from 'vitest';
import { register } from './support/api.js';
import { createTestDatabase, testEngines } from './support/engines.js';
import { PROCESS_TEST_TIMEOUT_MS, runEntry } from './support/process.js';
import { startService } from './support/service.js';
import { providerEnv, SEED_QUOTE, startUpstream } from './support/upstream.js';

// Every test here runs the CLI as a process: slow to start on a busy machine.
vi.setConfig({ testTimeout: PROCESS_TEST_TIMEOUT_MS });

const LAYOUTS = {
  'Alpha Vantage': 'timestamp,open,high,low,close,volume\n2022-07-29,129.5200,131.0000,129.3100,130.7900,4236283\n2022-07-28,128.2000,129.5500,127.6600,129.2200,3895133\n',
  Yahoo: 'Date,Open,High,Low,Close,Adj Close,Volume\n2022-07-28,128.2000,129.5500,127.6600,129.2200,125.0,3895133\n2022-07-29,129.5200,131.0000,129.3100,130.7900,126.5,4236283\n',
  Stooq: '\ufeffDate,Open,High,Low,Close,Volume\r\n2022-07-28,128.2000,129.5500,127.6600,129.2200,3895133\r\n2022-07-29,129.5200,131.0000,129.3100,130.7900,4236283\r\n',
};

function csvFile(name: string, text: string): string {
  const path = join(inject('sqliteDir'), `${name}-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(path, text);
  return path;
}

describe.each(testEngines())('npm run cli -- import-prices on %s', (engine) => {
  it.each(Object.entries(LAYOUTS))('when a %s CSV is imported, then its bars are served as the quote', async (layout, text) => {
    const database = await createTestDatabase(engine);
    try {
      const run = runEntry('src/cli.ts', { DATABASE_URL: database.url }, ['import-prices', csvFile(layout, text), '--symbol', 'ibm']);
      expect(await run.exited).toBe(0);
      expect(run.output()).toMatch(/Imported 2 daily bars of IBM \(2022-07-28 to 2022-07-29\)/);

      // A real provider is configured (the stand-in, which knows no IBM), and the clock is the Saturday after the
      // import's last session: the imported history is current, so it is what the quote serves, without asking upstream.
      const upstream = await startUpstream();
      const { app } = await startService(engine, { ...providerEnv(upstream), QUOTE_REFRESH_SECONDS: '3600' }, database, {
        now: () => new Date('2022-07-30T15:00:00Z'),
      });
      const key = await register(app);
      const quote = await app.inject({ method: 'GET', url: '/api/v1/symbol/ibm/', headers: { 'x-api-key': key } });
      expect(quote.statusCode).toBe(200);
      expect(quote.json()).toStrictEqual({ ...SEED_QUOTE, symbol: 'IBM', source: 'import' });
      expect(upstream.calls).toEqual({ alphavantage: [], twelvedata: [] });

      const history = await app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/history/?from=2022-07-01&to=2022-07-31', headers: { 'x-api-key': key } });
      expect(history.json()).toMatchObject({
        symbol: 'IBM',
        source: 'import',
        bars: [
          { date: '2022-07-28', close: '129.2200', volume: 3895133 },
          { date: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: 4236283 },
        ],
      });
    } finally {
      await database.drop();
    }
  });

  it.each([
    ['a bad price', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,1.5,10\n2022-07-29,1,2,null,1.5,10\n', /line 3: low "null" is not a decimal/],
    ['an impossible date', 'Date,Open,High,Low,Close,Volume\n2022-02-30,1,2,0.5,1.5,10\n', /line 2: date "2022-02-30"/],
    ['a repeated date', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,1.5,10\n2022-07-28,1,2,0.5,1.5,10\n', /line 3: date 2022-07-28 repeats line 2/],
    ['an unknown header', 'when,price\n2022-07-28,1\n', /line 1: missing column date, open, high, low, close; expected a header of Alpha Vantage/],
    ['a fractional volume', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,1.5,10.5\n', /line 2: volume "10.5"/],
    ['a negative price', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,1.5,10\n2022-07-29,-1,2,0.5,1.5,10\n', /line 3: open "-1" is not a price above 0 and at most 1000000000/],
    ['a zero price', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.0000,1.5,10\n', /line 2: low "0.0000" is not a price above 0/],
    ['a price past a billion', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2000000000,0.5,1.5,10\n', /line 2: high "2000000000" is not a price above 0 and at most 1000000000/],
    ['a high below the low', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,0.4,0.5,0.45,10\n', /line 2: high 0.4 is below low 0.5/],
    ['a close above the high', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,2.01,10\n', /line 2: high 2 is below close 2.01/],
    ['a volume of 2^53 − 1', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,1.5,9007199254740991\n', /line 2: volume 9007199254740991 is more than 10000000000000/],
    ['a date of year 0', 'Date,Open,High,Low,Close,Volume\n0000-01-03,1,2,0.5,1.5,10\n', /line 2: date 0000-01-03 is before 1900-01-01/],
    ['a future date', 'Date,Open,High,Low,Close,Volume\n2022-07-28,1,2,0.5,1.5,10\n2200-01-03,1,2,0.5,1.5,10\n', /bars: the bar of 2200-01-03 is of a session not final yet \(the latest final session is \d{4}-\d{2}-\d{2}\); import finished sessions only/],
  ])('when the file has %s, then nothing is imported and the line is named', async (_case, text, message) => {
    const database = await createTestDatabase(engine);
    try {
      const run = runEntry('src/cli.ts', { DATABASE_URL: database.url }, ['import-prices', csvFile('bad', text), '--symbol', 'IBM']);
      expect(await run.exited).toBe(1);
      // The last line, after the progress of the file read (on stderr).
      expect(run.output()).toMatch(/^Nothing imported: .*\n$/m);
      expect(run.output()).toMatch(message);
      const { db } = await startService(engine, {}, database);
      expect(await db.selectFrom('daily_bars').selectAll().execute()).toEqual([]);
    } finally {
      await database.drop();
    }
  });
});

describe('import-prices usage', () => {
  it('when the symbol or file is missing or wrong, then it says so', async () => {
    const env = { DATABASE_URL: `sqlite:${join(inject('sqliteDir'), 'usage.db')}` };
    const noSymbol = runEntry('src/cli.ts', env, ['import-prices', 'x.csv']);
    expect(await noSymbol.exited).toBe(2);
    expect(noSymbol.output()).toMatch(/--symbol SYMBOL/);
    const noFile = runEntry('src/cli.ts', env, ['import-prices', '/no/such.csv', '--symbol', 'IBM']);
    expect(await noFile.exited).toBe(1);
    expect(noFile.output()).toMatch(/no such file \/no\/such.csv/);
    const badSymbol = runEntry('src/cli.ts', env, ['import-prices', csvFile('ok', LAYOUTS.Yahoo), '--symbol', 'B@D']);
    expect(await badSymbol.exited).toBe(1);
    expect(badSymbol.output()).toMatch(/symbol: must be 1 to 15/);
  });

  it('when a large file is imported, then progress is reported and every row lands', async () => {
    const lines = ['Date,Open,High,Low,Close,Volume'];
    const day = new Date('1950-01-02T00:00:00Z');
    for (let i = 0; i < 25_000; i++) {
      lines.push(`${day.toISOString().slice(0, 10)},1.0,2.0,0.5,1.5,${i}`);
      day.setUTCDate(day.getUTCDate() + 1);
    }
    const lastDay = lines.at(-1)!.slice(0, 10);
    const dbPath = join(inject('sqliteDir'), 'large-import.db');
    const run = runEntry('src/cli.ts', { DATABASE_URL: `sqlite:${dbPath}` }, ['import-prices', csvFile('large', lines.join('\n')), '--symbol', 'BIG']);
    expect(await run.exited).toBe(0);
    // Not a terminal: a plain line per tenth of the file read, the last when it is read whole.
    const progress = run.output().match(/^read \d+% of .*large-.*\.csv \(\d+ rows\)$/gm) ?? [];
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(10);
    expect(progress.at(-1)).toMatch(/^read 100% of .* \(25000 rows\)$/);
    expect(run.output()).toMatch(/Imported 25000 daily bars of BIG \(1950-01-02 to 2018-06-\d\d\)/);

    // Counted in the database, not taken from the CLI's word: every date once, every volume summed.
    const { db } = await startService('sqlite', {}, { url: `sqlite:${dbPath}`, drop: async () => undefined });
    const stored = await db
      .selectFrom('daily_bars')
      .where('symbol', '=', 'BIG')
      .select((eb) => [
        eb.fn.countAll<number>().as('rows'),
        eb.fn.count<number>('date').distinct().as('dates'),
        eb.fn.min('date').as('first'),
        eb.fn.max('date').as('last'),
        eb.fn.sum<number>('volume').as('volumes'),
      ])
      .executeTakeFirstOrThrow();
    expect({ ...stored, rows: Number(stored.rows), dates: Number(stored.dates), volumes: Number(stored.volumes) }).toEqual({
      rows: 25_000,
      dates: 25_000,
      first: '1950-01-02',
      last: lastDay,
      volumes: (24_999 * 25_000) / 2,
    });
  });
});
