import { Redis } from 'ioredis';
import type { RateLimitStore } from '../../app/throttle.js';
import { bucketSizeMs, type ThrottleDecision } from '../../domain/throttle.js';

/**
 * domain/throttle.ts's hitWindow, in Lua, so one check is one atomic step on
 * the Redis server: instances sharing it share the limit exactly. Time is
 * Redis's own (TIME), so instances' clocks need not agree.
 * A client is a hash of bucket start → count, expiring with its window.
 */
const HIT_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local size = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local buckets = {}
local count = 0
local oldest = nil
for i = 1, #fields, 2 do
  local start = tonumber(fields[i])
  local n = tonumber(fields[i + 1])
  if start + size <= now - window then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    buckets[#buckets + 1] = {start, n}
    count = count + n
    if oldest == nil or start < oldest then oldest = start end
  end
end
local allowed = 0
if count < limit then
  local current = now - (now % size)
  redis.call('HINCRBY', KEYS[1], tostring(current), 1)
  redis.call('PEXPIRE', KEYS[1], window + size)
  count = count + 1
  allowed = 1
  if oldest == nil or current < oldest then oldest = current end
end
local reset = oldest + size + window - now
local retry = 0
if allowed == 0 then
  -- Sorting is only needed to answer a refusal: which bucket's leaving frees one request.
  table.sort(buckets, function(a, b) return a[1] < b[1] end)
  local freed = 0
  for _, b in ipairs(buckets) do
    freed = freed + b[2]
    if freed >= count - limit + 1 then retry = b[1] + size + window - now; break end
  end
end
return {allowed, count, reset, retry}
`;

interface ThrottleRedis extends Redis {
  hitWindow(key: string, limit: number, windowMs: number, bucketMs: number): Promise<[number, number, number, number]>;
}

export interface RedisStoreLogger {
  error(details: object, message: string): void;
  info(message: string): void;
}

/** Resolves once `redis` is ready, or after `timeoutMs` in any case: a Redis that is down must not stop the service from starting. */
export function readyOrTimeout(redis: Redis, timeoutMs: number): Promise<void> {
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

/**
 * Counts in Redis. Fails fast when Redis is away: no offline queue, one try
 * per command, a short command timeout — the caller decides what a failed
 * check means (see RATE_LIMIT_ON_STORE_FAILURE). ioredis keeps reconnecting.
 * Waits (up to the connect timeout) for the first connection, so requests
 * served right after start are counted.
 */
export async function connectRedisRateLimitStore(url: string, keyPrefix: string, log: RedisStoreLogger): Promise<RateLimitStore> {
  const redis = new Redis(url, {
    keyPrefix: `${keyPrefix}throttle:`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    commandTimeout: 500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  }) as ThrottleRedis;
  redis.defineCommand('hitWindow', { numberOfKeys: 1, lua: HIT_WINDOW_LUA });

  let lastErrorLogAt = 0;
  redis.on('error', (error) => {
    // Logged loudly, but at most every 10 s: a dead Redis must not flood the log.
    if (Date.now() - lastErrorLogAt > 10_000) {
      lastErrorLogAt = Date.now();
      log.error({ err: error }, 'rate-limit store (Redis) unreachable');
    }
  });
  redis.on('ready', () => log.info('rate-limit store (Redis) connected'));
  await readyOrTimeout(redis, 2000);

  return {
    async hit(key, rate): Promise<ThrottleDecision> {
      const [allowed, count, resetMs, retryAfterMs] = await redis.hitWindow(
        key,
        rate.limit,
        rate.windowMs,
        bucketSizeMs(rate.windowMs),
      );
      return { allowed: allowed === 1, limit: rate.limit, remaining: Math.max(0, rate.limit - count), resetMs, retryAfterMs };
    },
    health: () => (redis.status === 'ready' ? 'ok' : 'unreachable'),
    async close() {
      redis.disconnect();
    },
  };
}
