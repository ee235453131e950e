import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { readDividendsCsv, readSplitsCsv } from './adapters/csv/action-csv.js';
import { CsvRowError, readPriceCsv } from './adapters/csv/price-csv.js';
import { connectDatabase } from './adapters/db/connect.js';
import { migrateToLatest } from './adapters/db/migrate.js';
import { createImportTransaction } from './adapters/db/import-transaction.js';
import { SANDBOX_SOURCE } from './adapters/providers/sandbox.js';
import { deletePrices, importPrices } from './app/market-data/import-prices.js';
import { ConfigError, loadConfig } from './config.js';
import { DomainError } from './domain/errors.js';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  migrate                               apply pending database migrations (DATABASE_URL) and exit
  import-prices FILE --symbol SYMBOL [--splits SPLITS.csv] [--dividends DIVIDENDS.csv] [--replace]
                                        load daily bars from an Alpha Vantage, Yahoo or Stooq CSV file;
                                        a Yahoo file's Adj Close implies dividends. SPLITS.csv: date,factor
                                        (or Yahoo's Date,Stock Splits); DIVIDENDS.csv: ex_date,amount.
                                        --replace deletes the symbol's stored bars and actions first
                                        (in the same transaction)
  delete-prices --symbol SYMBOL         delete a symbol's stored bars, splits and dividends; the next
                                        request of it asks upstream afresh`;

class UsageError extends Error {}

/** The import was refused whole by a rule of the service (a session not final, splits past the bounds). */
class ImportRefusedError extends Error {}

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
  const options = { symbol: { type: 'string' }, splits: { type: 'string' }, dividends: { type: 'string' }, replace: { type: 'boolean' } } as const;
  const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
  const [file] = positionals;
  if (!file || !values.symbol || positionals.length > 1) throw new UsageError('import-prices takes one FILE and --symbol SYMBOL');
  // Read and check every file before touching the database: nothing is half-imported.
  const prices = await readPriceCsv(createReadStream(file), (rows) => console.error(`read ${rows} rows…`));
  const splits = values.splits === undefined ? undefined : await readSplitsCsv(createReadStream(values.splits), values.splits);
  const dividends = values.dividends === undefined ? undefined : await readDividendsCsv(createReadStream(values.dividends), values.dividends);
  const result = await withDatabase(async (db) => {
    await migrateToLatest(db);
    return importPrices(importTransaction(db), values.symbol!, { ...prices, splits, dividends }, { replace: values.replace }).catch((error: unknown) => {
      throw error instanceof DomainError ? new ImportRefusedError(error.message) : error;
    });
  });
  if (values.replace) console.log(`Replaced what was stored of ${result.symbol}.`);
  console.log(`Imported ${result.count} daily bars of ${result.symbol} (${result.first} to ${result.last}).`);
  if (result.impliedDividends !== undefined) console.log(`The Adj Close column implied ${plural(result.impliedDividends, 'dividend')}.`);
  if (splits) console.log(`Imported ${plural(splits.length, 'split')} from ${values.splits}.`);
  if (dividends) console.log(`Imported ${plural(dividends.length, 'dividend')} from ${values.dividends}.`);
}

async function deletePricesCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { symbol: { type: 'string' } }, allowPositionals: true });
  if (!values.symbol || positionals.length > 0) throw new UsageError('delete-prices takes --symbol SYMBOL');
  const deleted = await withDatabase(async (db) => {
    await migrateToLatest(db);
    return deletePrices(importTransaction(db), values.symbol!);
  });
  console.log(`Deleted ${plural(deleted.bars, 'daily bar')} and ${plural(deleted.actions, 'split or dividend', 'splits or dividends')} of ${deleted.symbol}.`);
}

/** Imports write real bars: sandbox bars of the symbol give way to them (adapters/db/price-store.ts). */
const importTransaction = (db: ReturnType<typeof connectDatabase>) => createImportTransaction(db, { sandboxSource: SANDBOX_SOURCE, realProviders: false });

function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

const commands: Record<string, (args: string[]) => Promise<void>> = {
  migrate,
  'import-prices': importPricesCommand,
  'delete-prices': deletePricesCommand,
};

const HELP = new Set(['--help', '-h', 'help']);

async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  // Asked for: the usage on stdout, and success. (Any command's own --help is the same page: it is short.)
  if ((name !== undefined && HELP.has(name)) || (name !== undefined && commands[name] && rest.some((arg) => HELP.has(arg)))) {
    console.log(USAGE);
    return 0;
  }
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
    if (error instanceof CsvRowError || error instanceof ImportRefusedError) {
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
