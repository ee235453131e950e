import { normalizeSymbol, type DailyBar } from '../domain/quote.js';
import type { PriceStore } from './quotes.js';

export const IMPORT_SOURCE = 'import';

/** Stores checked bars of one symbol in one transaction: all of them, or none. */
export async function importPrices(
  store: PriceStore,
  rawSymbol: string,
  bars: DailyBar[],
): Promise<{ symbol: string; count: number; first: string; last: string }> {
  const symbol = normalizeSymbol(rawSymbol);
  const dates = bars.map((b) => b.date).sort();
  await store.saveBars(symbol, bars, IMPORT_SOURCE, Date.now());
  return { symbol, count: bars.length, first: dates[0] ?? '', last: dates[dates.length - 1] ?? '' };
}
