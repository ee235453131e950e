import type { Redis } from 'ioredis';
import type { RateLimitStore } from '../../app/throttle.js';
import { bucketSizeMs, type Rate, type ThrottleDecision } from '../../domain/throttle.js';
import { failFastRedis, readyOrTimeout } from '../redis/connect.js';

/**
 * domain/throttle.ts's decide(), in Lua, so one check is one atomic step on
 * the Redis server: instances sharing it share the limit exactly. Time is
 * Redis's own (TIME), so instances' clocks need not agree; ARGV[5], when not
 * empty, stands in for it (tests move time without waiting).
 * A client is a hash of bucket start → "count:latest request", expiring with
 * its newest request's window. ARGV[4] is the cost.
 */
const DECIDE_LUA = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local size = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local fields = redis.call('HGETALL', KEYS[1])
local buckets = {}
local byStart = {}
local count = 0
local oldest = nil
for i = 1, #fields, 2 do
  local start = tonumber(fields[i])
  local n, last = string.match(fields[i + 1], '^(%d+):(%d+)$')
  if n == nil then
    -- Written before buckets kept their latest request: assume the bucket's end.
    n, last = string.match(fields[i + 1], '^%d+$'), math.min(start + size, now)
  end
  n, last = tonumber(n), tonumber(last)
  if n == nil or last + window - now <= 0 then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    local bucket = {n, last}
    buckets[#buckets + 1] = bucket
    byStart[start] = bucket
    count = count + n
    if oldest == nil or last < oldest then oldest = last end
  end
end
local allowed = 0
if count + cost <= limit then allowed = 1 end
if allowed == 1 then
  local current = now - (now % size)
  local bucket = byStart[current]
  if bucket == nil then
    bucket = {0, now}
    buckets[#buckets + 1] = bucket
  end
  bucket[1] = bucket[1] + cost
  bucket[2] = math.max(bucket[2], now)
  redis.call('HSET', KEYS[1], tostring(current), string.format('%d:%d', bucket[1], bucket[2]))
  redis.call('PEXPIRE', KEYS[1], window)
  count = count + cost
  -- The bucket counted into may have been the oldest: its latest request is now later.
  oldest = nil
  for _, b in ipairs(buckets) do
    if oldest == nil or b[2] < oldest then oldest = b[2] end
  end
end
local reset = 0
if oldest ~= nil then reset = oldest + window - now end
local retry = 0
if allowed == 0 then
  -- Sorting is only needed to answer a refusal: which bucket's leaving frees enough.
  table.sort(buckets, function(a, b) return a[2] < b[2] end)
  local freed = 0
  retry = window
  for _, b in ipairs(buckets) do
    freed = freed + b[1]
    if freed >= count + cost - limit then retry = b[2] + window - now; break end
  end
end
return {allowed, count, reset, retry}
`;

/**
 * domain/throttle.ts's refundWindow(), in Lua: takes ARGV[1] units back from the newest buckets, where a
 * hit just counted them, in one atomic step. The buckets' latest request times are kept.
 */
const REFUND_LUA = `
local owed = tonumber(ARGV[1])
local fields = redis.call('HGETALL', KEYS[1])
local starts = {}
local values = {}
for i = 1, #fields, 2 do
  local start = tonumber(fields[i])
  if start ~= nil then
    starts[#starts + 1] = start
    values[start] = fields[i + 1]
  end
end
table.sort(starts, function(a, b) return a > b end)
for _, start in ipairs(starts) do
  if owed <= 0 then break end
  local n, last = string.match(values[start], '^(%d+):(%d+)$')
  n = tonumber(n)
  if n ~= nil then
    local taken = math.min(owed, n)
    owed = owed - taken
    if n - taken == 0 then
      redis.call('HDEL', KEYS[1], tostring(start))
    else
      redis.call('HSET', KEYS[1], tostring(start), string.format('%d:%s', n - taken, last))
    end
  end
end
return owed
`;

interface ThrottleRedis extends Redis {
  refundWindow(key: string, cost: number): Promise<number>;
  decideWindow(
    key: string,
    limit: number,
    windowMs: number,
    bucketMs: number,
    cost: number,
    now: number | '',
  ): Promise<[number, number, number, number]>;
}

export interface RedisStoreLogger {
  error(details: object, message: string): void;
  info(message: string): void;
}

/**
 * Counts in Redis. Fails fast when Redis is away: no offline queue, one try
 * per command, a short command timeout — the caller decides what a failed
 * check means (see RATE_LIMIT_ON_STORE_FAILURE). ioredis keeps reconnecting.
 * Waits (up to the connect timeout) for the first connection, so requests
 * served right after start are counted.
 */
export async function connectRedisRateLimitStore(
  url: string,
  keyPrefix: string,
  log: RedisStoreLogger,
  options: { now?: () => number } = {},
): Promise<RateLimitStore> {
  const redis = failFastRedis(url, {
    keyPrefix: `${keyPrefix}throttle:`,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  }) as ThrottleRedis;
  redis.defineCommand('decideWindow', { numberOfKeys: 1, lua: DECIDE_LUA });
  redis.defineCommand('refundWindow', { numberOfKeys: 1, lua: REFUND_LUA });

  // Whether the latest command was answered. A link gone silent keeps ioredis's status 'ready' (nothing is
  // closed), while every command times out: health judges by what the commands met, not by the status alone
  // (found by npm run test:network: /health said ok through a whole silent partition).
  let lastCommandAnswered = true;
  let lastErrorLogAt = 0;
  redis.on('error', (error) => {
    // Logged loudly, but at most every 10 s: a dead Redis must not flood the log.
    if (Date.now() - lastErrorLogAt > 10_000) {
      lastErrorLogAt = Date.now();
      log.error({ err: error }, 'rate-limit store (Redis) unreachable');
    }
  });
  redis.on('ready', () => {
    lastCommandAnswered = true; // a fresh connection: nothing unanswered on it yet
    log.info('rate-limit store (Redis) connected');
  });
  await readyOrTimeout(redis);

  async function observed<T>(command: Promise<T>): Promise<T> {
    try {
      const answer = await command;
      lastCommandAnswered = true;
      return answer;
    } catch (error) {
      lastCommandAnswered = false;
      throw error;
    }
  }

  async function hit(key: string, rate: Rate, cost = 1): Promise<ThrottleDecision> {
    const [allowed, count, resetMs, retryAfterMs] = await observed(
      redis.decideWindow(key, rate.limit, rate.windowMs, bucketSizeMs(rate.windowMs), cost, options.now?.() ?? ''),
    );
    return { allowed: allowed === 1, limit: rate.limit, remaining: Math.max(0, rate.limit - count), resetMs, retryAfterMs };
  }

  return {
    hit,
    async refund(key, _rate, cost = 1) {
      await observed(redis.refundWindow(key, cost));
    },
    health: () => (redis.status === 'ready' && lastCommandAnswered ? 'ok' : 'unreachable'),
    async close() {
      redis.disconnect();
    },
  };
}
