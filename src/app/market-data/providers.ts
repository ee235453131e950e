/**
 * The port to market-data vendors (one adapter each, under
 * adapters/providers/) and the shapes they answer in, in domain types.
 */
import type { AlphaVantageQuery, PassThroughAnswer } from '../../domain/alpha-vantage-functions.js';
import type { Dividend, Split } from '../../domain/corporate-actions.js';
import type { Period, PeriodBar } from '../../domain/periods.js';
import type { DailyBar } from '../../domain/quote.js';

/** A provider's daily bars, newest first, and the currency their prices are in when the vendor says. */
export interface DailySeries {
  bars: DailyBar[];
  /** ISO 4217 code ("USD"); undefined when the vendor does not say (Alpha Vantage's daily series). */
  currency?: string;
}

/** One match of a symbol search, as the vendors give it. */
export interface SymbolMatch {
  symbol: string;
  name: string;
  /** "Equity", "ETF", "Common Stock"…, as the vendor words it. */
  type: string;
  /** Where it trades: Alpha Vantage gives a region ("United States"), Twelve Data an exchange ("NASDAQ"). */
  region?: string;
  exchange?: string;
  currency: string;
  /** Alpha Vantage's extra fields, kept for its gateway's SYMBOL_SEARCH answer. */
  marketOpen?: string;
  marketClose?: string;
  timezone?: string;
  /** "1.0000" … "0.0000", Alpha Vantage's relevance; computed for vendors that give none. */
  matchScore?: string;
}

export type { Dividend, Split } from '../../domain/corporate-actions.js';

/**
 * Port: an upstream source of market data (one adapter per vendor).
 * Failures are thrown as ProviderError so failover can tell them apart.
 * A capability a vendor lacks is left out; failover passes over it.
 */
export interface MarketDataProvider {
  /** Stable name, reported as a quote's `source`. */
  readonly name: string;
  /** How many requests this vendor tolerates at once. */
  readonly maxConcurrentRequests: number;
  /**
   * Daily bars of `symbol`, newest first: the newest `sessions` of them, or
   * fewer when the vendor's plan gives fewer in one call (Alpha Vantage's
   * free compact series: 100). One call whatever the depth.
   */
  getDailyBars(symbol: string, sessions: number): Promise<DailySeries>;
  /** Symbols matching `query` (a name or ticker fragment), best first. */
  searchSymbols?(query: string): Promise<SymbolMatch[]>;
  /** Every split the vendor knows for `symbol`, any order; [] when none. */
  getSplits?(symbol: string): Promise<Split[]>;
  /** Every cash dividend the vendor knows for `symbol`, any order; [] when none. */
  getDividends?(symbol: string): Promise<Dividend[]>;
  /**
   * An Alpha Vantage call the store does not serve, asked as is with the provider's own key (Alpha Vantage's
   * adapter only): its data, or the error or notice it answered instead. A rate-limit notice is a failure
   * (`rate_limited`), as is a notice about the key (`unavailable`): neither is the call's answer.
   */
  passThrough?(query: AlphaVantageQuery): Promise<PassThroughAnswer>;
  /**
   * The vendor's own weekly or monthly bars of `symbol`, newest first: its whole history in one call,
   * as traded, each with the vendor's adjusted close and dividend amount (domain/periods.ts). For
   * vendors whose daily series is shallow on the plan (Alpha Vantage's free 100 sessions).
   */
  getPeriodBars?(symbol: string, period: Period): Promise<PeriodBar[]>;
}

export type ProviderFailure =
  /** The vendor does not know the symbol. */
  | 'unknown_symbol'
  /** The vendor refuses for now (quota, burst limit); `retryAfterSeconds` says for how long. */
  | 'rate_limited'
  /** The vendor is down, slow, misconfigured (bad key) or answered nonsense. */
  | 'unavailable'
  /** The vendor does not offer this endpoint on the key's plan (a premium endpoint), whatever the symbol. */
  | 'not_offered'
  /** Not asked: our count says its quota is spent until `retryAfterSeconds` (see upstream-budget.ts). */
  | 'quota_spent'
  /** Not asked: the client used its fair share of this vendor's calls for new symbols today. */
  | 'fair_share';

export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    readonly failure: ProviderFailure,
    message: string,
    readonly retryAfterSeconds?: number,
    /** For a budget refusal: the window (day or minute) whose quota or fair share refused. */
    readonly window?: 'day' | 'minute',
  ) {
    super(`${provider}: ${message}`);
    this.name = 'ProviderError';
  }
}
