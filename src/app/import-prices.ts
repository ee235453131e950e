/**
 * import-prices: a symbol's history from files (the CLI reads and checks
 * them), its bars and the splits and dividends they imply, written in one
 * transaction. An import is not an upstream attempt: it spends no quota and
 * does not stand for "upstream was asked".
 */
import { type AdjustedCloseRow, type Dividend, impliedDividends, type Split } from '../domain/corporate-actions.js';
import { type DailyBar, normalizeSymbol } from '../domain/quote.js';
import type { ActionStore, CorporateActions } from './corporate-actions.js';
import type { PriceStore } from './prices.js';

export const IMPORT_SOURCE = 'import';

/**
 * Port: runs `work` in one transaction, with stores that write within it: every
 * write lands, or none does.
 */
export type ImportTransaction = <T>(work: (stores: { prices: PriceStore; actions: ActionStore }) => Promise<T>) => Promise<T>;

/** What an import brings, every part already checked. */
export interface PriceImport {
  bars: DailyBar[];
  /** Each row's close and split-and-dividend-adjusted close, when the file has one (Yahoo's Adj Close); they imply dividends. */
  adjustedCloses?: AdjustedCloseRow[];
  /** From --splits and --dividends files. */
  splits?: Split[];
  dividends?: Dividend[];
}

export interface ImportResult {
  symbol: string;
  count: number;
  first: string;
  last: string;
  /** Dividends the adjusted close implied; undefined when the file has none (Stooq, Alpha Vantage). */
  impliedDividends?: number;
}

/** Stores the bars and actions of one symbol in one transaction: all of them, or none. */
export async function importPrices(transaction: ImportTransaction, rawSymbol: string, file: PriceImport): Promise<ImportResult> {
  const symbol = normalizeSymbol(rawSymbol);
  const implied = file.adjustedCloses && impliedDividends([...file.adjustedCloses].sort(byDate));
  const actions: CorporateActions = {
    splits: file.splits ?? [],
    dividends: withDividendsFile(implied ?? [], file.dividends ?? []),
  };
  const fetchedAt = Date.now();
  await transaction(async (stores) => {
    await stores.prices.saveBars(symbol, file.bars, { source: IMPORT_SOURCE, fetchedAt, upstreamAttempt: false });
    await stores.actions.saveActions(symbol, actions, { source: IMPORT_SOURCE, fetchedAt, upstreamAttempt: false });
  });
  const dates = file.bars.map((b) => b.date).sort();
  return { symbol, count: file.bars.length, first: dates[0] ?? '', last: dates[dates.length - 1] ?? '', impliedDividends: implied?.length };
}

function byDate(a: { date: string }, b: { date: string }): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : 0;
}

/** A dividends file states amounts; an adjusted close only estimates them, so the file wins on a shared ex-date. */
function withDividendsFile(implied: Dividend[], stated: Dividend[]): Dividend[] {
  const statedDates = new Set(stated.map((d) => d.exDate));
  return [...implied.filter((d) => !statedDates.has(d.exDate)), ...stated];
}
