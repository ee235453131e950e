import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { readDividendsCsv, readSplitsCsv } from './adapters/csv/action-csv.js';
import { CsvRowError, readPriceCsv } from './adapters/csv/price-csv.js';
import { connectDatabase } from './adapters/db/connect.js';
import { migrateToLatest } from './adapters/db/migrate.js';
import { createImportTransaction } from './adapters/db/import-transaction.js';
import { SANDBOX_SOURCE } from './adapters/providers/sandbox.js';
import { importPrices } from './app/import-prices.js';
import { ConfigError, loadConfig } from './config.js';
import { DomainError } from './domain/errors.js';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  migrate                               apply pending database migrations (DATABASE_URL) and exit
  import-prices FILE --symbol SYMBOL [--splits SPLITS.csv] [--dividends DIVIDENDS.csv]
                                        load daily bars from an Alpha Vantage, Yahoo or Stooq CSV file;
                                        a Yahoo file's Adj Close implies dividends. SPLITS.csv: date,factor
                                        (or Yahoo's Date,Stock Splits); DIVIDENDS.csv: ex_date,amount`;

class UsageError extends Error {}

async function withDatabase<T>(work: (db: ReturnType<typeof connectDatabase>) => Promise<T>): Promise<T> {
  const db = connectDatabase(loadConfig().database);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

async function migrate(): Promise<void> {
  const results = await withDatabase(migrateToLatest);
  if (results.length === 0) console.log('Database is up to date.');
  for (const result of results) console.log(`Applied ${result.migrationName}`);
}

async function importPricesCommand(args: string[]): Promise<void> {
  const options = { symbol: { type: 'string' }, splits: { type: 'string' }, dividends: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
  const [file] = positionals;
  if (!file || !values.symbol || positionals.length > 1) throw new UsageError('import-prices takes one FILE and --symbol SYMBOL');
  // Read and check every file before touching the database: nothing is half-imported.
  const prices = await readPriceCsv(createReadStream(file), (rows) => console.error(`read ${rows} rows…`));
  const splits = values.splits === undefined ? undefined : await readSplitsCsv(createReadStream(values.splits), values.splits);
  const dividends = values.dividends === undefined ? undefined : await readDividendsCsv(createReadStream(values.dividends), values.dividends);
  const result = await withDatabase(async (db) => {
    await migrateToLatest(db);
    return importPrices(createImportTransaction(db, { sandboxSource: SANDBOX_SOURCE, realProviders: false }), values.symbol!, { ...prices, splits, dividends });
  });
  console.log(`Imported ${result.count} daily bars of ${result.symbol} (${result.first} to ${result.last}).`);
  if (result.impliedDividends !== undefined) console.log(`The Adj Close column implied ${plural(result.impliedDividends, 'dividend')}.`);
  if (splits) console.log(`Imported ${plural(splits.length, 'split')} from ${values.splits}.`);
  if (dividends) console.log(`Imported ${plural(dividends.length, 'dividend')} from ${values.dividends}.`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  migrate,
  'import-prices': importPricesCommand,
};

async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(name ? `Unknown command "${name}".\n\n${USAGE}` : USAGE);
    return 2;
  }
  try {
    await command(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof CsvRowError) {
      console.error(`Nothing imported: ${error.message}`);
      return 1;
    }
    if ((error as { code?: string }).code === 'ENOENT') {
      console.error(`Nothing imported: no such file ${(error as { path?: string }).path}`);
      return 1;
    }
    if (error instanceof ConfigError || error instanceof DomainError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
