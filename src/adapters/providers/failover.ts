import { createFairQueue } from '../../app/fair-queue.js';
import { type MarketDataProvider, ProviderError } from '../../app/market-data.js';
import { symbolNotFound, UpstreamRateLimitedError, UpstreamUnavailableError } from '../../domain/errors.js';
import type { FetchDailyBars, JoinFetch } from '../../app/quotes.js';

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
 * `join` adds a client to a fetch under way, which then runs at the earliest
 * turn of anyone waiting for it.
 */
export function createFailover(providers: MarketDataProvider[], log: FailoverLogger): FetchDailyBars & { join: JoinFetch } {
  const queued = providers.map((provider) => ({ provider, queue: createFairQueue(provider.maxConcurrentRequests) }));
  // Who waits for each symbol's fetch: a fetch passed on to the next provider keeps everyone's turn.
  const waiters = new Map<string, Set<string>>();

  const fetchBars: FetchDailyBars = (symbol, { client }) => {
    const clients = new Set([client]);
    waiters.set(symbol, clients);
    return fetchInTurn(symbol, clients).finally(() => {
      if (waiters.get(symbol) === clients) waiters.delete(symbol);
    });
  };

  const join: JoinFetch = (symbol, { client }) => {
    const clients = waiters.get(symbol);
    if (!clients || clients.has(client)) return;
    clients.add(client);
    for (const { queue } of queued) queue.join(symbol, client);
  };

  async function fetchInTurn(symbol: string, clients: ReadonlySet<string>) {
    const failures: ProviderError[] = [];
    for (const { provider, queue } of queued) {
      try {
        const bars = await queue.run(clients, () => provider.getDailyBars(symbol), symbol);
        return { bars, source: provider.name };
      } catch (error) {
        const failure = error instanceof ProviderError ? error : new ProviderError(provider.name, 'unavailable', String(error));
        if (failure.failure !== 'unknown_symbol') log.warn({ symbol, err: failure }, 'market-data provider failed');
        failures.push(failure);
      }
    }
    throw summarize(symbol, failures);
  }

  return Object.assign(fetchBars, { join });
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
