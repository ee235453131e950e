import { LRUCache } from 'lru-cache';
import type { RateLimitStore } from '../../app/throttle.js';
import { bucketSizeMs, hitWindow } from '../../domain/throttle.js';

/**
 * Counts in this process: the default for one instance. Clients are kept in an
 * LRU of `maxClients`, each dropped once its window has passed with no request;
 * past the bound, the least recently seen client is forgotten first.
 */
export function createMemoryRateLimitStore(options: { maxClients?: number; now?: () => number } = {}): RateLimitStore {
  const now = options.now ?? Date.now;
  const clients = new LRUCache<string, Map<number, number>>({ max: options.maxClients ?? 100_000 });
  return {
    async hit(key, rate) {
      const buckets = clients.get(key) ?? new Map<number, number>();
      const decision = hitWindow(buckets, rate, now());
      clients.set(key, buckets, { ttl: rate.windowMs + bucketSizeMs(rate.windowMs) });
      return decision;
    },
    health: () => 'ok',
    close: async () => undefined,
  };
}
