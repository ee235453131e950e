import type { DailyBar } from '../domain/quote.js';

/**
 * Port: an upstream source of daily bars (one adapter per vendor).
 * Failures are thrown as ProviderError so failover can tell them apart.
 */
export interface MarketDataProvider {
  /** Stable name, reported as a quote's `source`. */
  readonly name: string;
  /** How many requests this vendor tolerates at once. */
  readonly maxConcurrentRequests: number;
  /** Recent daily bars of `symbol`, newest first. */
  getDailyBars(symbol: string): Promise<DailyBar[]>;
}

export type ProviderFailure =
  /** The vendor does not know the symbol. */
  | 'unknown_symbol'
  /** The vendor refuses for now (quota, burst limit); `retryAfterSeconds` says for how long. */
  | 'rate_limited'
  /** The vendor is down, slow, misconfigured (bad key) or answered nonsense. */
  | 'unavailable'
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
  ) {
    super(`${provider}: ${message}`);
    this.name = 'ProviderError';
  }
}
