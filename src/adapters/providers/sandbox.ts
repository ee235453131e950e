import type { MarketDataProvider, SymbolMatch } from '../../app/market-data/providers.js';
import { ProviderError } from '../../app/market-data/providers.js';
import { latestFinalSession } from '../../domain/market-calendar.js';
import type { DailyBar } from '../../domain/quote.js';
import { barAt, dividendsOf, generateHistory, type History, sessionsThrough, splitFactor } from './sandbox/history.js';
import { type Ticker, UNIVERSE } from './sandbox/universe.js';

export const SANDBOX_SOURCE = 'sandbox';

const BY_SYMBOL = new Map(UNIVERSE.map((ticker) => [ticker.symbol, ticker]));

/** Tickers whose symbol starts with, or whose name contains, `query` (any case): symbol matches first, exact first. */
function searchUniverse(query: string): SymbolMatch[] {
  const wanted = query.trim().toUpperCase();
  if (wanted === '') return [];
  const rank = ({ symbol, name }: Ticker) =>
    symbol === wanted ? 0 : symbol.startsWith(wanted) ? 1 : name.toUpperCase().includes(wanted) ? 2 : undefined;
  return UNIVERSE.map((ticker) => ({ ticker, rank: rank(ticker) }))
    .filter((found): found is { ticker: Ticker; rank: number } => found.rank !== undefined)
    .sort((a, b) => a.rank - b.rank)
    .map(({ ticker: { symbol, name, type, exchange } }) => ({ symbol, name, type, exchange, region: 'United States', currency: 'USD' }));
}

/**
 * The offline stand-in for a vendor, used when no vendor key is configured, so the service works on a
 * laptop: a fixed universe of real US tickers (sandbox/universe.ts), each with its own deterministic
 * synthetic history from 2000-01-03 (or its listing) through the latest final session, NYSE's sessions
 * only, with its real splits and quarterly dividends (sandbox/history.ts). A symbol outside the universe
 * is unknown, as a vendor says it. Every answer says source "sandbox".
 */
export function createSandboxProvider(options: { now?: () => Date } = {}): MarketDataProvider {
  const now = options.now ?? (() => new Date());
  // One history per ticker, made when first asked and kept: the universe bounds them (some 35 × 6,600
  // sessions × 24 bytes, about 6 MB at most). Remade only when a newer session has become final.
  const histories = new Map<string, History>();
  let calendar: { last: string; days: string[] } | undefined;

  function sessions(): string[] {
    const last = latestFinalSession(now());
    if (calendar?.last !== last) calendar = { last, days: sessionsThrough(last) };
    return calendar.days;
  }

  function tickerOf(symbol: string): Ticker {
    const ticker = BY_SYMBOL.get(symbol.toUpperCase());
    if (!ticker) throw new ProviderError(SANDBOX_SOURCE, 'unknown_symbol', `${symbol} is not in the sandbox's universe`);
    return ticker;
  }

  function historyOf(ticker: Ticker): History {
    const days = sessions();
    const kept = histories.get(ticker.symbol);
    if (kept && kept.days.at(-1) === days.at(-1)) return kept;
    const listed = ticker.guide[0]![0];
    const history = generateHistory(ticker, listed > days[0]! ? days.slice(days.findIndex((day) => day >= listed)) : days);
    histories.set(ticker.symbol, history);
    return history;
  }

  return {
    name: SANDBOX_SOURCE,
    maxConcurrentRequests: 100,
    async getDailyBars(symbol, wanted) {
      const history = historyOf(tickerOf(symbol));
      const bars: DailyBar[] = [];
      for (let i = history.days.length - 1; i >= 0 && bars.length < wanted; i--) bars.push(barAt(history, i));
      // No currency claimed, as Alpha Vantage's daily series claims none: a sandbox currency would stick to
      // the symbol's stored bars and pass to real ones imported later (the search still says USD).
      return { bars };
    },
    async searchSymbols(query) {
      return searchUniverse(query);
    },
    async getSplits(symbol) {
      const ticker = tickerOf(symbol);
      const { days } = historyOf(ticker);
      return (ticker.splits ?? []).filter(([date]) => date > days[0]! && date <= days.at(-1)!).map((split) => ({ date: split[0], factor: splitFactor(split) }));
    },
    async getDividends(symbol) {
      const ticker = tickerOf(symbol);
      const { days } = historyOf(ticker);
      return ticker.dividends ? dividendsOf(ticker.dividends, days[0]!, days.at(-1)!) : [];
    },
  };
}
