/**
 * The ledger exported, streamed: read in batches of ids as GET /trades reads its unpaged list
 * (app/trades.ts listAllTrades), written as each batch comes, so memory stays flat however many
 * trades there are. Written to a file, it goes to a temporary file renamed into place once whole:
 * FILE is never half-written.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { csvRows } from '../adapters/http/csv.js';
import { TradeSchema } from '../adapters/http/schemas/trade.js';
import { createTradeLedger } from '../adapters/db/trade-ledger.js';
import { listAllTrades } from '../app/trades.js';
import type { Trade, TradeFilter } from '../domain/trade.js';
import { readArguments, UsageError } from './arguments.js';
import { type Command, CommandFailedError, withDatabase } from './command.js';

/** Trades read per query: the API's unpaged list reads as many. */
const BATCH = 1000;
const FORMATS = ['csv', 'json', 'ndjson'] as const;
type Format = (typeof FORMATS)[number];

/** The API's trade, its fields in its order: the CSV's columns. */
const COLUMNS = Object.keys(TradeSchema.properties) as (keyof Trade)[];

/** Each format as a beginning, a batch's text (after `first` batches or not) and an end. */
const WRITERS: Record<Format, { begin: string; batch: (trades: Trade[], first: boolean) => string; end: (empty: boolean) => string }> = {
  // symbol is the one column of free text: guarded against spreadsheet formulas as every CSV answer is.
  csv: { begin: `${COLUMNS.join(',')}\n`, batch: (trades) => csvRows(COLUMNS, trades.map((t) => COLUMNS.map((c) => t[c])), { textColumns: ['symbol'] }), end: () => '' },
  // The bytes GET /trades answers: a trade's stored fields are TradeSchema's, in its order.
  json: { begin: '[', batch: (trades, first) => `${first ? '' : ','}${JSON.stringify(trades).slice(1, -1)}`, end: () => ']\n' },
  ndjson: { begin: '', batch: (trades) => trades.map((t) => `${JSON.stringify(t)}\n`).join(''), end: () => '' },
};

async function* exportText(batches: AsyncIterable<Trade[]>, format: Format): AsyncGenerator<string> {
  const writer = WRITERS[format];
  yield writer.begin;
  let first = true;
  for await (const trades of batches) {
    yield writer.batch(trades, first);
    first = false;
  }
  yield writer.end(first);
}

function readUserId(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const id = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new UsageError(`trades export: --user-id must be an integer from 0 to ${Number.MAX_SAFE_INTEGER} (got ${JSON.stringify(raw)})`);
  return id;
}

function readFormat(raw: string | undefined): Format {
  if (raw === undefined) return 'csv';
  if (!FORMATS.includes(raw as Format)) throw new UsageError(`trades export: --format must be one of ${FORMATS.join(', ')} (got ${JSON.stringify(raw)})`);
  return raw as Format;
}

/** Writes `text` to FILE through a temporary file beside it, renamed over FILE only once all of it is written. */
async function writeWhole(text: AsyncIterable<string>, file: string): Promise<void> {
  const partial = `${file}.partial-${process.pid}`;
  try {
    await pipeline(Readable.from(text), createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    const code = (error as { code?: string }).code;
    if (code && code in CANNOT_WRITE) throw new CommandFailedError(`Nothing exported: cannot write ${file}: ${CANNOT_WRITE[code]}`);
    throw error;
  }
}

const CANNOT_WRITE: Record<string, string> = {
  ENOENT: 'no such folder',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  EISDIR: 'it is a folder',
  ENOSPC: 'no space left on the device',
};

/** Writes to stdout; a reader that stops early (`| head`) ends the export quietly. */
async function writeOut(text: AsyncIterable<string>, out: Writable = process.stdout): Promise<void> {
  try {
    await pipeline(Readable.from(text), out, { end: false });
    // The process exits once the command returns: what stdout still buffers must reach the reader first.
    if (out.writableLength > 0) await once(out, 'drain');
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPIPE') throw error;
  }
}

export const tradesExportCommand: Command = {
  name: 'trades export',
  synopsis: '[--user-id N] [--format csv|json|ndjson] [--output FILE]',
  summary: 'the ledger, in id order, as CSV or JSON (streamed)',
  details: `Writes every trade (or one user's) in id order, as it reads them: memory stays flat for
millions of trades. The fields are GET /trades's: id, type, user_id, symbol, shares,
price, timestamp (epoch ms).

  --user-id N      only the trades of user N
  --format csv     (the default) a header line, then one line per trade; a symbol a spreadsheet
                   would run as a formula is written with a leading ', as every CSV answer is
  --format json    one JSON array, the same bytes GET /trades answers
  --format ndjson  one JSON object per line, for tools that read a line at a time
  --output FILE    write to FILE (default: stdout); FILE appears only once the export is whole

Trades recorded while the export runs may or may not be in it; none is written twice.

Examples:
  npm run cli --silent -- trades export --output ledger.csv
  npm run cli --silent -- trades export --user-id 7 --format json`,
  async run(args, config) {
    const options = { 'user-id': { type: 'string' }, format: { type: 'string' }, output: { type: 'string' } } as const;
    const { values } = readArguments('trades export', args, options, { min: 0, max: 0, names: '' });
    const userId = readUserId(values['user-id']);
    const format = readFormat(values.format);
    const filter: TradeFilter = userId === undefined ? {} : { user_id: userId };
    await withDatabase(config(), async (db) => {
      const text = exportText(listAllTrades(createTradeLedger(db), filter, 0, BATCH), format);
      await (values.output === undefined ? writeOut(text) : writeWhole(text, values.output));
    });
  },
};
