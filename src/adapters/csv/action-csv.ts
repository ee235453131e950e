/**
 * Splits and dividends files for import-prices:
 *   splits     date,factor          (factor: new shares per old share, "4" for 4-for-1)
 *              Date,Stock Splits    (Yahoo's export: "4:1", "1:10")
 *   dividends  ex_date,amount
 *              Date,Dividends       (Yahoo's export)
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { Decimal } from 'decimal.js';
import { checkDividend, checkSplit, checkSplitSeries, type Dividend, type Split } from '../../domain/corporate-actions.js';
import { CsvRowError } from './price-csv.js';

interface Layout<T> {
  /** Lower-cased column names, in the order `toAction` takes their cells. */
  columns: [string, string];
  toAction(cells: [string, string]): T;
}

const SPLIT_LAYOUTS: Layout<Split>[] = [
  { columns: ['date', 'factor'], toAction: ([date, factor]) => ({ date, factor }) },
  { columns: ['date', 'stock splits'], toAction: ([date, ratio]) => ({ date, factor: factorOfRatio(ratio) }) },
];

const DIVIDEND_LAYOUTS: Layout<Dividend>[] = [
  { columns: ['ex_date', 'amount'], toAction: ([exDate, amount]) => ({ exDate, amount }) },
  { columns: ['date', 'dividends'], toAction: ([exDate, amount]) => ({ exDate, amount }) },
];

/** "4:1" (or "4/1") is 4 new shares for 1 old: factor 4. Anything else is left for checkSplit to refuse. */
function factorOfRatio(ratio: string): string {
  const match = /^(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)$/.exec(ratio);
  if (!match || /^[0.]+$/.test(match[2]!)) return ratio;
  return new Decimal(match[1]!).div(match[2]!).toFixed();
}

/**
 * Every split of a splits file, checked; throws CsvRowError naming the file, line and field of the
 * first bad row, or the line of the split where the file's splits together leave the bounds.
 */
export async function readSplitsCsv(input: Readable, file: string): Promise<Split[]> {
  const lines = new Map<Split, number>();
  const splits = await readActions(input, file, SPLIT_LAYOUTS, checkSplit, (s) => s.date, (split, line) => lines.set(split, line));
  const refused = checkSplitSeries(splits);
  if (refused) throw new CsvRowError(lines.get(refused.split) ?? 0, refused.problem, file);
  return splits;
}

/** Every dividend of a dividends file, checked; throws CsvRowError like readSplitsCsv. */
export function readDividendsCsv(input: Readable, file: string): Promise<Dividend[]> {
  return readActions(input, file, DIVIDEND_LAYOUTS, checkDividend, (d) => d.exDate);
}

async function readActions<T>(
  input: Readable,
  file: string,
  layouts: Layout<T>[],
  check: (action: T) => string | undefined,
  dateOf: (action: T) => string,
  onRow?: (action: T, line: number) => void,
): Promise<T[]> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true });
  // As in readPriceCsv: a read error must end the loop below, not crash the process.
  pipeline(input, parser).catch(() => undefined);
  let reader: ((record: string[], line: number) => T) | undefined;
  const actions: T[] = [];
  const firstLineOfDate = new Map<string, number>();
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!reader) {
        reader = rowReader(record, layouts, check, file);
        continue;
      }
      const action = reader(record, info.lines);
      const seen = firstLineOfDate.get(dateOf(action));
      if (seen !== undefined) throw new CsvRowError(info.lines, `date ${dateOf(action)} repeats line ${seen}`, file);
      firstLineOfDate.set(dateOf(action), info.lines);
      actions.push(action);
      onRow?.(action, info.lines);
    }
  } catch (error) {
    if (error instanceof CsvRowError || (error as { syscall?: string }).syscall) throw error;
    throw new CsvRowError((error as { lines?: number }).lines ?? 0, `not readable as CSV (${(error as Error).message})`, file);
  }
  if (!reader) throw new CsvRowError(1, `the file is empty; ${expectedHeaders(layouts)}`, file);
  return actions;
}

/** Finds the file's layout from its header; the reader it gives checks each row. */
function rowReader<T>(header: string[], layouts: Layout<T>[], check: (action: T) => string | undefined, file: string) {
  const names = header.map((h) => h.trim().toLowerCase());
  const layout = layouts.find((l) => l.columns.every((c) => names.includes(c)));
  if (!layout) throw new CsvRowError(1, `unknown header; ${expectedHeaders(layouts)}`, file);
  const at = layout.columns.map((c) => names.indexOf(c));
  return (record: string[], line: number): T => {
    const action = layout.toAction(at.map((i) => record[i]?.trim() ?? '') as [string, string]);
    const problem = check(action);
    if (problem) throw new CsvRowError(line, problem, file);
    return action;
  };
}

function expectedHeaders<T>(layouts: Layout<T>[]): string {
  return `expected a header ${layouts.map((l) => l.columns.join(',')).join(' or ')}`;
}
