/** The stored market data: import a symbol's daily bars from a CSV file, or delete what is stored of it. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { readDividendsCsv, readSplitsCsv } from '../adapters/csv/action-csv.js';
import { readPriceCsv } from '../adapters/csv/price-csv.js';
import type { Database } from '../adapters/db/database.js';
import { createImportTransaction } from '../adapters/db/import-transaction.js';
import { SANDBOX_SOURCE } from '../adapters/providers/sandbox.js';
import { deletePrices, importPrices } from '../app/market-data/import-prices.js';
import { DomainError } from '../domain/errors.js';
import { readArguments, UsageError } from './arguments.js';
import { type Command, CommandFailedError, plural, withDatabase } from './command.js';
import { fileProgress } from './progress.js';

/** Imports write real bars: sandbox bars of the symbol give way to them (adapters/db/price-store.ts). */
const importTransaction = (db: Kysely<Database>) => createImportTransaction(db, { sandboxSource: SANDBOX_SOURCE, realProviders: false });

/** A price file read with its progress shown: by bytes of the file, as the CSV parser takes them in. */
async function readPriceFile(file: string) {
  const { size } = await stat(file);
  const input = createReadStream(file);
  const progress = fileProgress(file, size);
  const prices = await readPriceCsv(input, (rows) => progress.update(input.bytesRead, rows));
  progress.done(prices.bars.length);
  return prices;
}

async function readFiles(pricesFile: string, splitsFile: string | undefined, dividendsFile: string | undefined) {
  return {
    prices: await readPriceFile(pricesFile),
    splits: splitsFile === undefined ? undefined : await readSplitsCsv(createReadStream(splitsFile), splitsFile),
    dividends: dividendsFile === undefined ? undefined : await readDividendsCsv(createReadStream(dividendsFile), dividendsFile),
  };
}

export const importPricesCommand: Command = {
  name: 'import-prices',
  synopsis: 'FILE --symbol SYMBOL [--splits SPLITS.csv] [--dividends DIVIDENDS.csv] [--replace]',
  summary: "load a symbol's daily bars from an Alpha Vantage, Yahoo or Stooq CSV file",
  details: `Reads FILE whole and checks every row before writing anything: a bad row is named
(file and line) and nothing is imported. Rows are written in one transaction.

  FILE                     daily bars: Alpha Vantage (timestamp,open,high,low,close,volume), Yahoo
                           (Date,Open,High,Low,Close,Adj Close,Volume) or Stooq; a Yahoo file's
                           Adj Close implies the dividends
  --symbol SYMBOL          the symbol the bars are of (upper-cased)
  --splits SPLITS.csv      splits: date,factor (or Yahoo's Date,Stock Splits)
  --dividends DIVS.csv     cash dividends: ex_date,amount
  --replace                delete the symbol's stored bars, splits and dividends first, in the same
                           transaction (without it, the file's bars are added to or replace those of
                           the same dates)

Progress goes to stderr: a bar with the percentage and the time left on a terminal, else a line
per tenth of the file ("read 40% of FILE (6292 rows)"). Exit 1 when the file is refused.

Example:
  npm run cli -- import-prices ibm.csv --symbol IBM --replace`,
  async run(args, config) {
    const options = { symbol: { type: 'string' }, splits: { type: 'string' }, dividends: { type: 'string' }, replace: { type: 'boolean' } } as const;
    const { values, positionals } = readArguments('import-prices', args, options, { min: 1, max: 1, names: 'one FILE and --symbol SYMBOL' });
    if (!values.symbol) throw new UsageError('import-prices takes one FILE and --symbol SYMBOL');
    const symbol = values.symbol;
    // Read and check every file before touching the database: nothing is half-imported.
    const { prices, splits, dividends } = await readFiles(positionals[0]!, values.splits, values.dividends).catch((error: unknown) => {
      const { code, path } = error as { code?: string; path?: string };
      throw code === 'ENOENT' ? new CommandFailedError(`Nothing imported: no such file ${path}`) : error;
    });
    const result = await withDatabase(config(), (db) =>
      importPrices(importTransaction(db), symbol, { ...prices, splits, dividends }, { replace: values.replace }).catch((error: unknown) => {
        // The import was refused whole by a rule of the service (a session not final, splits past the bounds).
        throw error instanceof DomainError ? new CommandFailedError(`Nothing imported: ${error.message}`) : error;
      }),
    );
    if (values.replace) console.log(`Replaced what was stored of ${result.symbol}.`);
    console.log(`Imported ${result.count} daily bars of ${result.symbol} (${result.first} to ${result.last}).`);
    if (result.impliedDividends !== undefined) console.log(`The Adj Close column implied ${plural(result.impliedDividends, 'dividend')}.`);
    if (splits) console.log(`Imported ${plural(splits.length, 'split')} from ${values.splits}.`);
    if (dividends) console.log(`Imported ${plural(dividends.length, 'dividend')} from ${values.dividends}.`);
  },
};

export const deletePricesCommand: Command = {
  name: 'delete-prices',
  synopsis: '--symbol SYMBOL',
  summary: "delete a symbol's stored daily bars, splits and dividends",
  details: `Deletes, in one transaction, everything stored of SYMBOL's prices: its daily bars, splits and
dividends, and a vendor's weekly and monthly bars. The next request of the symbol asks upstream afresh (or, in the sandbox, draws it again).
To swap a symbol's history for a file's in one step, use import-prices --replace instead.

Example:
  npm run cli -- delete-prices --symbol IBM`,
  async run(args, config) {
    const { values } = readArguments('delete-prices', args, { symbol: { type: 'string' } }, { min: 0, max: 0, names: '' });
    if (!values.symbol) throw new UsageError('delete-prices takes --symbol SYMBOL');
    const symbol = values.symbol;
    const deleted = await withDatabase(config(), (db) => deletePrices(importTransaction(db), symbol));
    console.log(`Deleted ${plural(deleted.bars, 'daily bar')} and ${plural(deleted.actions, 'split or dividend', 'splits or dividends')} of ${deleted.symbol}.`);
  },
};
