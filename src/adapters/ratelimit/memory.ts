import { LRUCache } from 'lru-cache';
import type { RateLimitStore } from '../../app/throttle.js';
import { type Bucket, hitWindow, refundWindow } from '../../domain/throttle.js';
import { upTo } from '../../app/lru-bound.js';

/**
 * Counts in this process: the default for one instance. Clients are kept in an
 * LRU of `maxClients`, each dropped once its window has passed with no request;
 * past the bound, the least recently seen client is forgotten first.
 */
export function createMemoryRateLimitStore(options: { maxClients?: number; now?: () => number } = {}): RateLimitStore {
  const now = options.now ?? Date.now;
  const clients = new LRUCache<string, Map<number, Bucket>>({ ...upTo(options.maxClients ?? 100_000), perf: { now } });
  return {
    async hit(key, rate, cost = 1) {
      const buckets = clients.get(key) ?? new Map<number, Bucket>();
      const decision = hitWindow(buckets, rate, now(), cost);
      // Kept as long as its newest request counts: a window from now.
      if (buckets.size > 0) clients.set(key, buckets, { ttl: rate.windowMs });
      return decision;
    },
    async refund(key, _rate, cost = 1) {
      const buckets = clients.get(key);
      if (!buckets) return;
      refundWindow(buckets, cost);
      if (buckets.size === 0) clients.delete(key);
    },
    health: () => 'ok',
    close: async () => undefined,
  };
}
