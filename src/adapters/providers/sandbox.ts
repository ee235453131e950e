import { createHash } from 'node:crypto';
import type { MarketDataProvider, SymbolMatch } from '../../app/market-data/providers.js';
import { latestFinalSession } from '../../domain/market-calendar.js';
import type { DailyBar } from '../../domain/quote.js';

export const SANDBOX_SOURCE = 'sandbox';

/** A number in [0, 1) fixed by the text: the same symbol and day always give the same bar. */
function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const DAY_MS = 86_400_000;

function barFor(symbol: string, date: Date): DailyBar {
  const day = Math.floor(date.getTime() / DAY_MS);
  const base = 20 + unitHash(symbol) * 480;
  const phase = unitHash(`${symbol}:phase`) * 2 * Math.PI;
  const iso = date.toISOString().slice(0, 10);
  const noise = (label: string) => unitHash(`${symbol}:${iso}:${label}`);
  const close = base * (1 + 0.15 * Math.sin(day / 23 + phase) + 0.02 * (noise('close') - 0.5));
  const open = close * (1 + 0.02 * (noise('open') - 0.5));
  const high = Math.max(open, close) * (1 + 0.01 * noise('high'));
  const low = Math.min(open, close) * (1 - 0.01 * noise('low'));
  return {
    date: iso,
    open: open.toFixed(4),
    high: high.toFixed(4),
    low: low.toFixed(4),
    close: close.toFixed(4),
    volume: Math.round(1e5 + noise('volume') * 1e7),
  };
}

type Listing = Pick<SymbolMatch, 'symbol' | 'name' | 'type' | 'exchange'>;

/** Well-known US listings, enough to try a search offline; any symbol still gets bars. */
const LISTINGS: Listing[] = [
  { symbol: 'IBM', name: 'International Business Machines Corp', type: 'Equity', exchange: 'NYSE' },
  { symbol: 'AAPL', name: 'Apple Inc', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'MSFT', name: 'Microsoft Corporation', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'GOOGL', name: 'Alphabet Inc - Class A', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'AMZN', name: 'Amazon.com Inc', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'TSLA', name: 'Tesla Inc', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'NVDA', name: 'NVIDIA Corporation', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'META', name: 'Meta Platforms Inc', type: 'Equity', exchange: 'NASDAQ' },
  { symbol: 'JPM', name: 'JPMorgan Chase & Co', type: 'Equity', exchange: 'NYSE' },
  { symbol: 'KO', name: 'Coca-Cola Company', type: 'Equity', exchange: 'NYSE' },
  { symbol: 'SPY', name: 'SPDR S&P 500 ETF Trust', type: 'ETF', exchange: 'NYSE ARCA' },
  { symbol: 'QQQ', name: 'Invesco QQQ Trust Series 1', type: 'ETF', exchange: 'NASDAQ' },
];

/** Listings whose symbol starts with, or whose name contains, `query` (any case): symbol matches first, exact first. */
function searchListings(query: string): SymbolMatch[] {
  const wanted = query.trim().toUpperCase();
  if (wanted === '') return [];
  const rank = ({ symbol, name }: Listing) =>
    symbol === wanted ? 0 : symbol.startsWith(wanted) ? 1 : name.toUpperCase().includes(wanted) ? 2 : undefined;
  return LISTINGS.map((listing) => ({ listing, rank: rank(listing) }))
    .filter((found): found is { listing: Listing; rank: number } => found.rank !== undefined)
    .sort((a, b) => a.rank - b.rank)
    .map(({ listing }) => ({ ...listing, region: 'United States', currency: 'USD' }));
}

/**
 * Deterministic synthetic daily bars for any valid symbol, offline: the last
 * 100 weekday sessions. Used only when no real provider is configured, so the
 * service works on a laptop without a key; every answer says source "sandbox".
 */
export function createSandboxProvider(): MarketDataProvider {
  return {
    name: SANDBOX_SOURCE,
    maxConcurrentRequests: 100,
    async getDailyBars(symbol) {
      const bars: DailyBar[] = [];
      const day = new Date(`${latestFinalSession(new Date())}T00:00:00Z`);
      while (bars.length < 100) {
        if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6) bars.push(barFor(symbol, day));
        day.setUTCDate(day.getUTCDate() - 1);
      }
      // Synthetic prices are in no currency: none is claimed (it would stick to a symbol imported later).
      return { bars };
    },
    async searchSymbols(query) {
      return searchListings(query);
    },
    // No corporate actions: the synthetic bars never jump as a split or an ex-dividend day
    // would make them, so any split or dividend made up here would contradict them.
    async getSplits() {
      return [];
    },
    async getDividends() {
      return [];
    },
  };
}
