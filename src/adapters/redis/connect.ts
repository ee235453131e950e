/**
 * Redis client set-up shared by the adapters that talk to Redis (the
 * rate-limit store, key revocations): one home, so neither imports the other.
 */

import { Redis, type RedisOptions } from 'ioredis';

/** How long start-up waits for a first connection before going on without it. */
export const CONNECT_TIMEOUT_MS = 2000;

/**
 * A client that fails fast while Redis is away (no offline queue, one try per
 * command, a short command timeout): the caller decides what a failed command
 * means. ioredis keeps reconnecting in the background.
 */
export function failFastRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: 500,
    ...options,
  });
}

/** Resolves once `redis` is ready, or after `timeoutMs` in any case: a Redis that is down must not stop the service from starting. */
export function readyOrTimeout(redis: Redis, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}
