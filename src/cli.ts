import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { CsvRowError, readPriceCsv } from './adapters/csv/price-csv.js';
import { connectDatabase } from './adapters/db/connect.js';
import { migrateToLatest } from './adapters/db/migrate.js';
import { createPriceStore } from './adapters/db/price-store.js';
import { SANDBOX_SOURCE } from './adapters/providers/sandbox.js';
import { importPrices } from './app/import-prices.js';
import { ConfigError, loadConfig } from './config.js';
import { DomainError } from './domain/errors.js';

const USAGE = `Usage: npm run cli -- <command>

Commands:
  migrate                               apply pending database migrations (DATABASE_URL) and exit
  import-prices FILE --symbol SYMBOL    load daily bars from an Alpha Vantage, Yahoo or Stooq CSV file`;

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
  const { values, positionals } = parseArgs({ args, options: { symbol: { type: 'string' } }, allowPositionals: true });
  const [file] = positionals;
  if (!file || !values.symbol || positionals.length > 1) throw new UsageError('import-prices takes one FILE and --symbol SYMBOL');
  // Read and check the whole file before touching the database: nothing is half-imported.
  const bars = await readPriceCsv(createReadStream(file), (rows) => console.error(`read ${rows} rows…`));
  const result = await withDatabase(async (db) => {
    await migrateToLatest(db);
    return importPrices(createPriceStore(db, { sandboxSource: SANDBOX_SOURCE, realProviders: false }), values.symbol!, bars);
  });
  console.log(`Imported ${result.count} daily bars of ${result.symbol} (${result.first} to ${result.last}).`);
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
