import { type DailyBar, normalizeSymbol } from '../domain/quote.js';
import type { PriceStore } from './prices.js';

export const IMPORT_SOURCE = 'import';

/** Stores checked bars of one symbol in one transaction: all of them, or none. An import is not an upstream attempt. */
export async function importPrices(
  store: PriceStore,
  rawSymbol: string,
  bars: DailyBar[],
  now: () => Date = () => new Date(),
): Promise<{ symbol: string; count: number; first: string; last: string }> {
  const symbol = normalizeSymbol(rawSymbol);
  const dates = bars.map((b) => b.date).sort();
  await store.saveBars(symbol, bars, { source: IMPORT_SOURCE, fetchedAt: now().getTime(), upstreamAttempt: false });
  return { symbol, count: bars.length, first: dates[0] ?? '', last: dates[dates.length - 1] ?? '' };
}
