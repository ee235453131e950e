/**
 * The upstream-fetch lease in Redis, shared by every instance: `SET key token
 * NX PX ttl` takes it (atomic: of instances taking it at once, one succeeds),
 * and a compare-and-delete script releases it only if the token is still ours
 * (a holder slower than its ttl must not release the next holder's lease).
 * Redis expires a crashed holder's lease by itself.
 *
 * Chosen over a PostgreSQL advisory lock: that lock lives as long as a pooled
 * connection is held, so each in-flight upstream call would pin one of the
 * pool's few connections for seconds, and a holder cut off mid-call keeps it
 * until TCP notices; here the ttl bounds it, and Redis is already what
 * instances share for everything per-second (throttles, revocations).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FetchLease } from '../../app/market-data/refresh.js';
import { failFastRedis, readyOrTimeout } from './connect.js';

const RELEASE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LeaseLogger {
  warn(details: object, message: string): void;
}

export interface RedisFetchLease extends FetchLease {
  close(): Promise<void>;
}

export async function connectRedisFetchLease(url: string, keyPrefix: string, log: LeaseLogger): Promise<RedisFetchLease> {
  const redis = failFastRedis(url);
  // Connection errors are reported by the rate-limit store; this client keeps reconnecting.
  redis.on('error', () => undefined);
  await readyOrTimeout(redis);
  return createRedisFetchLease(redis, keyPrefix, log);
}

export function createRedisFetchLease(redis: Redis, keyPrefix: string, log: LeaseLogger): RedisFetchLease {
  const release = (key: string, token: string) => async () => {
    // Not released: it expires by itself, at worst holding others back for its ttl.
    await redis.eval(RELEASE_IF_OURS, 1, key, token).catch(() => undefined);
  };
  return {
    async acquire(name, ttlMs) {
      const key = `${keyPrefix}fetch-lease:${name}`;
      const token = randomUUID();
      try {
        const taken = await redis.set(key, token, 'PX', ttlMs, 'NX');
        return taken === 'OK' ? release(key, token) : undefined;
      } catch (error) {
        // Redis away: fetch without the lease (at worst a duplicate upstream call) rather than serve nothing.
        log.warn({ err: error, key: name }, 'the upstream-fetch lease cannot be taken (Redis unreachable); fetching without it');
        return async () => undefined;
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
