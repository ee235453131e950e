import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import type { AdjustedCloseRow } from '../../domain/corporate-actions.js';
import { checkBar, type DailyBar, isDecimal } from '../../domain/quote.js';

/** A row the file cannot give: the message names its line, so it can be fixed. */
export class CsvRowError extends Error {
  constructor(
    readonly line: number,
    problem: string,
    /** Named when a command reads several files. */
    file?: string,
  ) {
    super(`${file ? `${file}, ` : ''}line ${line}: ${problem}`);
    this.name = 'CsvRowError';
  }
}

/**
 * Column names of the layouts we read, lower-cased:
 *   Alpha Vantage  timestamp,open,high,low,close,volume  (…,adjusted_close,… too)
 *   Yahoo          Date,Open,High,Low,Close,Adj Close,Volume
 *   Stooq          Date,Open,High,Low,Close,Volume  (Polish: Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen)
 */
const COLUMN_NAMES: Record<keyof DailyBar, string[]> = {
  date: ['timestamp', 'date', 'data'],
  open: ['open', 'otwarcie'],
  high: ['high', 'najwyzszy'],
  low: ['low', 'najnizszy'],
  close: ['close', 'zamkniecie'],
  volume: ['volume', 'wolumen'],
};

const LAYOUTS_HELP =
  'expected a header of Alpha Vantage (timestamp,open,high,low,close,volume), ' +
  'Yahoo (Date,Open,High,Low,Close,Adj Close,Volume) or Stooq (Date,Open,High,Low,Close,Volume)';

/**
 * Yahoo's Adj Close, adjusted for splits and dividends where its Close is adjusted for splits
 * only: their ratio implies the dividends. Alpha Vantage's adjusted_close is not read: its
 * close is raw, so the ratio also moves at splits (its file states dividends and splits itself).
 * Stooq's files have no adjusted column: they imply nothing.
 */
const ADJUSTED_CLOSE = 'adj close';

type ColumnIndex = Record<keyof DailyBar | 'adjustedClose', number | undefined>;

function locateColumns(header: string[]): ColumnIndex {
  const names = header.map((h) => h.trim().toLowerCase());
  const index = {} as ColumnIndex;
  for (const [field, candidates] of Object.entries(COLUMN_NAMES) as [keyof DailyBar, string[]][]) {
    const at = names.findIndex((name) => candidates.includes(name));
    index[field] = at === -1 ? undefined : at;
  }
  const adjusted = names.indexOf(ADJUSTED_CLOSE);
  index.adjustedClose = adjusted === -1 ? undefined : adjusted;
  const missing = (['date', 'open', 'high', 'low', 'close'] as const).filter((f) => index[f] === undefined);
  if (missing.length > 0) throw new CsvRowError(1, `missing column ${missing.join(', ')}; ${LAYOUTS_HELP}`);
  return index;
}

function toBar(record: string[], columns: ColumnIndex, line: number): DailyBar {
  const cell = (field: keyof ColumnIndex) => (columns[field] === undefined ? undefined : record[columns[field]]?.trim());
  const volume = cell('volume');
  if (volume !== undefined && !/^\d+(\.0+)?$/.test(volume)) throw new CsvRowError(line, `volume "${volume}" is not a whole number`);
  const bar: DailyBar = {
    date: cell('date') ?? '',
    open: cell('open') ?? '',
    high: cell('high') ?? '',
    low: cell('low') ?? '',
    close: cell('close') ?? '',
    volume: volume === undefined ? 0 : Number(volume),
  };
  const problem = checkBar(bar);
  if (problem) throw new CsvRowError(line, problem);
  return bar;
}

function toAdjustedClose(record: string[], columns: ColumnIndex, bar: DailyBar, line: number): AdjustedCloseRow {
  const adjustedClose = record[columns.adjustedClose!]?.trim() ?? '';
  if (!isDecimal(adjustedClose)) throw new CsvRowError(line, `adj close "${adjustedClose}" is not a decimal number`);
  return { date: bar.date, close: bar.close, adjustedClose };
}

/** A price file's bars and, for a file with Yahoo's Adj Close column, each row's close and adjusted close. */
export interface PriceFile {
  bars: DailyBar[];
  adjustedCloses?: AdjustedCloseRow[];
}

/** How often, in rows, the reader reports its progress: often enough for a bar to move smoothly. */
const PROGRESS_EVERY_ROWS = 1000;

/**
 * Reads every bar of a daily-prices CSV, checking each row. Throws CsvRowError
 * on the first bad or repeated row: the caller imports all or nothing.
 */
export async function readPriceCsv(input: Readable, onProgress?: (rows: number) => void): Promise<PriceFile> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
  // pipeline, not pipe: a read error (no such file) must end the loop below, not crash the process.
  pipeline(input, parser).catch(() => undefined);
  let columns: ColumnIndex | undefined;
  const bars: DailyBar[] = [];
  const adjustedCloses: AdjustedCloseRow[] = [];
  const firstLineOfDate = new Map<string, number>();
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!columns) {
        columns = locateColumns(record);
        continue;
      }
      const bar = toBar(record, columns, info.lines);
      const seen = firstLineOfDate.get(bar.date);
      if (seen !== undefined) throw new CsvRowError(info.lines, `date ${bar.date} repeats line ${seen}`);
      firstLineOfDate.set(bar.date, info.lines);
      bars.push(bar);
      if (columns.adjustedClose !== undefined) adjustedCloses.push(toAdjustedClose(record, columns, bar, info.lines));
      if (onProgress && bars.length % PROGRESS_EVERY_ROWS === 0) onProgress(bars.length);
    }
  } catch (error) {
    if (error instanceof CsvRowError || (error as { syscall?: string }).syscall) throw error;
    const line = (error as { lines?: number }).lines ?? 0;
    throw new CsvRowError(line, `not readable as CSV (${(error as Error).message})`);
  }
  if (!columns) throw new CsvRowError(1, `the file is empty; ${LAYOUTS_HELP}`);
  if (bars.length === 0) throw new CsvRowError(2, 'no rows after the header');
  return columns.adjustedClose === undefined ? { bars } : { bars, adjustedCloses };
}
