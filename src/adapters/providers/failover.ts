import { createFairQueue } from '../../app/fair-queue.js';
import { type MarketDataProvider, ProviderError } from '../../app/market-data.js';
import { symbolNotFound, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../domain/errors.js';
import type { FetchDailyBars } from '../../app/quotes.js';

export interface FailoverLogger {
  warn(details: object, message: string): void;
}

/**
 * Asks each provider in order until one answers. A provider that is rate
 * limited, down, or does not know the symbol passes the question on.
 * When all fail: every one said "unknown" → 404; any rate limited → 503 with
 * the soonest retry; otherwise → 502. Each provider's concurrency is capped
 * at what its vendor tolerates, and shared between clients in turn (see
 * app/fair-queue.ts): one client's batch cannot hold up another's quote.
 */
export function createFailover(providers: MarketDataProvider[], log: FailoverLogger): FetchDailyBars {
  const queued = providers.map((provider) => ({ provider, queue: createFairQueue(provider.maxConcurrentRequests) }));
  return async (symbol, { client }) => {
    const failures: ProviderError[] = [];
    for (const { provider, queue } of queued) {
      try {
        const bars = await queue.run([client], () => provider.getDailyBars(symbol));
        return { bars, source: provider.name };
      } catch (error) {
        const failure = error instanceof ProviderError ? error : new ProviderError(provider.name, 'unavailable', String(error));
        if (failure.failure !== 'unknown_symbol') log.warn({ symbol, err: failure }, 'market-data provider failed');
        failures.push(failure);
      }
    }
    throw summarize(symbol, failures);
  };
}

function summarize(symbol: string, failures: ProviderError[]): Error {
  if (failures.every((f) => f.failure === 'unknown_symbol')) {
    return symbolNotFound(symbol);
  }
  const rateLimited = failures.filter((f) => f.failure === 'rate_limited');
  if (rateLimited.length > 0) {
    const retryAfter = Math.min(...rateLimited.map((f) => f.retryAfterSeconds ?? 60));
    return new UpstreamRateLimitedError('Market data providers are rate limited; try again later.', retryAfter);
  }
  return new UpstreamUnavailableError('Market data providers are unavailable; try again later.');
}
