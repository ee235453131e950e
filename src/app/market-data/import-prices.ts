/**
 * import-prices: a symbol's history from files (the CLI reads and checks
 * each row of them), its bars and the splits and dividends they imply,
 * written in one transaction, beside what is stored or in its place. An
 * import is not an upstream attempt: it spends no quota and does not stand
 * for "upstream was asked". delete-prices: a symbol's bars and actions gone.
 */
import { type AdjustedCloseRow, checkSplitSeries, type Dividend, impliedDividends, type Split, withSplits } from '../../domain/corporate-actions.js';
import { ValidationError } from '../../domain/errors.js';
import { latestFinalSession } from '../../domain/market-calendar.js';
import { type DailyBar, normalizeSymbol } from '../../domain/quote.js';
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

export interface ImportOptions {
  /** Delete the symbol's stored bars and actions first, in the same transaction. */
  replace?: boolean;
  now?: Date;
}

/**
 * Stores the bars and actions of one symbol in one transaction: all of them,
 * or none. Refused (a ValidationError, nothing written): a bar of a session
 * not final yet — stored, it would stand for the session and stop its
 * refresh — and splits that, with those stored, cannot adjust a series
 * (domain/corporate-actions.ts).
 */
export async function importPrices(transaction: ImportTransaction, rawSymbol: string, file: PriceImport, options: ImportOptions = {}): Promise<ImportResult> {
  const symbol = normalizeSymbol(rawSymbol);
  refuseUnfinishedSessions(file.bars, options.now ?? new Date());
  const implied = file.adjustedCloses && impliedDividends([...file.adjustedCloses].sort(byDate));
  const actions: CorporateActions = {
    splits: file.splits ?? [],
    dividends: withDividendsFile(implied ?? [], file.dividends ?? []),
  };
  const fetchedAt = Date.now();
  await transaction(async (stores) => {
    if (options.replace) await forget(stores, symbol);
    const stored = await stores.actions.actions(symbol);
    refuseUnadjustableSplits(withSplits(stored.splits, actions.splits));
    await stores.prices.saveBars(symbol, file.bars, { source: IMPORT_SOURCE, fetchedAt, upstreamAttempt: false });
    await stores.actions.saveActions(symbol, actions, { source: IMPORT_SOURCE, fetchedAt, upstreamAttempt: false });
  });
  const dates = file.bars.map((b) => b.date).sort();
  return { symbol, count: file.bars.length, first: dates[0] ?? '', last: dates[dates.length - 1] ?? '', impliedDividends: implied?.length };
}

/** Deletes a symbol's stored bars and actions, in one transaction; how many of each there were. */
export async function deletePrices(transaction: ImportTransaction, rawSymbol: string): Promise<{ symbol: string; bars: number; actions: number }> {
  const symbol = normalizeSymbol(rawSymbol);
  return transaction(async (stores) => ({ symbol, ...(await forget(stores, symbol)) }));
}

async function forget(stores: { prices: PriceStore; actions: ActionStore }, symbol: string): Promise<{ bars: number; actions: number }> {
  return { bars: await stores.prices.deleteBars(symbol), actions: await stores.actions.deleteActions(symbol) };
}

function refuseUnfinishedSessions(bars: DailyBar[], now: Date): void {
  const finalSession = latestFinalSession(now);
  const unfinished = bars.find((bar) => bar.date > finalSession);
  if (unfinished) {
    throw new ValidationError('bars', `the bar of ${unfinished.date} is of a session not final yet (the latest final session is ${finalSession}); import finished sessions only`);
  }
}

function refuseUnadjustableSplits(splits: Split[]): void {
  const refused = checkSplitSeries(splits);
  if (refused) throw new ValidationError('splits', `counting the splits already stored, ${refused.problem}; nothing imported (--replace starts the symbol afresh)`);
}

function byDate(a: { date: string }, b: { date: string }): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : 0;
}

/** A dividends file states amounts; an adjusted close only estimates them, so the file wins on a shared ex-date. */
function withDividendsFile(implied: Dividend[], stated: Dividend[]): Dividend[] {
  const statedDates = new Set(stated.map((d) => d.exDate));
  return [...implied.filter((d) => !statedDates.has(d.exDate)), ...stated];
}
