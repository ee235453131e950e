import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryRateLimitStore } from '../../src/adapters/ratelimit/memory.js';
import { connectRedisRateLimitStore } from '../../src/adapters/ratelimit/redis.js';
import { COMMAND_TIMEOUT_MS } from '../../src/adapters/redis/connect.js';
import type { RateLimitStore } from '../../src/app/throttle.js';
import { parseRate, secondsUp, throttledDetail } from '../../src/domain/throttle.js';
import { testRedisEnv } from '../support/engines.js';
import { addressOf, startTcpProxy } from '../support/tcp-proxy.js';

const DAY = 86_400_000;
const quiet = { error: () => undefined, info: () => undefined };

/** Both stores, each on a clock the test moves. */
const STORES: Record<string, (now: () => number) => Promise<RateLimitStore>> = {
  memory: async (now) => createMemoryRateLimitStore({ now }),
  redis: async (now) => {
    const { REDIS_URL, REDIS_KEY_PREFIX } = testRedisEnv();
    return connectRedisRateLimitStore(REDIS_URL!, REDIS_KEY_PREFIX!, quiet, { now });
  },
};

describe.each(Object.keys(STORES))('the %s rate-limit store', (name) => {
  const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);

  const opened: RateLimitStore[] = [];
  afterEach(async () => {
    while (opened.length > 0) await opened.pop()!.close();
  });

  async function storeAt(start: number) {
    let now = start;
    const store = await STORES[name]!(() => now);
    opened.push(store);
    return { store, setNow: (at: number) => void (now = at) };
  }

  it('when the 101st anonymous request of a day comes a second after the first 100, then the wait is 86399 s, as DRF says', async () => {
    const clock = await storeAt(t0);
    const rate = parseRate('100/day')!;
    for (let i = 0; i < 100; i++) expect((await clock.store.hit('anon:a', rate)).allowed).toBe(true);
    clock.setNow(t0 + 1000);
    const refused = await clock.store.hit('anon:a', rate);
    expect(refused.allowed).toBe(false);
    expect(throttledDetail(secondsUp(refused.retryAfterMs))).toBe('Request was throttled. Expected available in 86399 seconds.');
    expect(secondsUp(refused.resetMs)).toBe(86_399);
  });

  it('when units just counted are given back, then exactly that many more requests pass, and giving back more than counted frees nothing extra', async () => {
    const clock = await storeAt(t0);
    const rate = parseRate('3/day')!;
    const key = `register:refund-${name}-${t0}`;
    await clock.store.hit(key, rate);
    clock.setNow(t0 + 120_000); // a later bucket: the newest is given back first
    await clock.store.hit(key, rate, 2);
    expect((await clock.store.hit(key, rate)).allowed).toBe(false);
    await clock.store.refund(key, rate);
    const again = await clock.store.hit(key, rate);
    expect(again).toMatchObject({ allowed: true, remaining: 0 });
    expect((await clock.store.hit(key, rate)).allowed).toBe(false);
    await clock.store.refund(key, rate, 10);
    for (let i = 0; i < 3; i++) expect((await clock.store.hit(key, rate)).allowed).toBe(true);
    expect((await clock.store.hit(key, rate)).allowed).toBe(false);
    await clock.store.refund('register:never-counted', rate); // nothing to give back: no error, no allowance made
    expect((await clock.store.hit('register:never-counted', rate, 3)).allowed).toBe(true);
    expect((await clock.store.hit('register:never-counted', rate)).allowed).toBe(false);
  });

  it('when the limit is reached late in a bucket, then neither the wait nor the reset exceeds the window', async () => {
    const clock = await storeAt(t0 + 59_000);
    const rate = parseRate('3/day')!;
    for (let i = 0; i < 3; i++) await clock.store.hit('anon:b', rate);
    clock.setNow(t0 + 59_500);
    const refused = await clock.store.hit('anon:b', rate);
    expect(refused.allowed).toBe(false);
    // The old scheme kept the bucket to its end plus a day: 86401 s.
    expect(throttledDetail(secondsUp(refused.retryAfterMs))).toBe('Request was throttled. Expected available in 86400 seconds.');
    expect(secondsUp(refused.resetMs)).toBeLessThanOrEqual(86_400);
  });

  it('when a wait ends, then exactly one more request passes, never more than the limit in a window', async () => {
    const clock = await storeAt(t0);
    const rate = parseRate('2/minute')!;
    await clock.store.hit('anon:c', rate);
    clock.setNow(t0 + 1500); // the next bucket (a second, for per-minute rates)
    await clock.store.hit('anon:c', rate);
    clock.setNow(t0 + 1700);
    const refused = await clock.store.hit('anon:c', rate);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    clock.setNow(t0 + 1700 + refused.retryAfterMs);
    expect((await clock.store.hit('anon:c', rate)).allowed).toBe(true);
    expect((await clock.store.hit('anon:c', rate)).allowed).toBe(false);
  });

  it('when a cost is larger than what is left, then it is refused whole, costs nothing, and the wait is until enough is free', async () => {
    const clock = await storeAt(t0);
    const rate = parseRate('10/day')!;
    expect(await clock.store.hit('user:1', rate, 4)).toMatchObject({ allowed: true, remaining: 6 });
    clock.setNow(t0 + 3 * 3_600_000);
    expect(await clock.store.hit('user:1', rate, 3)).toMatchObject({ allowed: true, remaining: 3 });
    clock.setNow(t0 + 4 * 3_600_000);
    const refused = await clock.store.hit('user:1', rate, 5);
    expect(refused).toMatchObject({ allowed: false, remaining: 3 });
    // 5 fit once the first 4 have left: a day after they came.
    expect(throttledDetail(secondsUp(refused.retryAfterMs))).toBe(`Request was throttled. Expected available in ${(DAY - 4 * 3_600_000) / 1000} seconds.`);
    expect(await clock.store.hit('user:1', rate, 3)).toMatchObject({ allowed: true, remaining: 0 });
  });
});

describe('the redis store across an upgrade', () => {
  it('when a client was counted in the old format (bucket → count), then those requests still count', async () => {
    const { REDIS_URL, REDIS_KEY_PREFIX } = testRedisEnv();
    const t0 = Date.UTC(2026, 0, 5, 12, 0, 0);
    const raw = new Redis(REDIS_URL!);
    let now = t0 + 30_000;
    const store = await connectRedisRateLimitStore(REDIS_URL!, REDIS_KEY_PREFIX!, quiet, { now: () => now });
    try {
      await raw.hset(`${REDIS_KEY_PREFIX}throttle:anon:old`, String(t0), '3');
      const rate = parseRate('3/day')!;
      const refused = await store.hit('anon:old', rate);
      expect(refused.allowed).toBe(false);
      expect(secondsUp(refused.retryAfterMs)).toBeLessThanOrEqual(86_400);
      now = t0 + DAY + 60_000; // the old bucket counted to its end, as it used to
      expect((await store.hit('anon:old', rate)).allowed).toBe(true);
    } finally {
      raw.disconnect();
      await store.close();
    }
  });
});

describe('the redis store when its answer and its timeout are due at once', () => {
  /**
   * A store behind a proxy that can hold Redis's answers, its script loaded (each check is then one
   * command, one answer), and a check sent with its answer held, on a clock the test moves.
   */
  async function heldCheck() {
    const { REDIS_URL, REDIS_KEY_PREFIX } = testRedisEnv();
    const proxy = await startTcpProxy(addressOf(REDIS_URL!));
    const store = await connectRedisRateLimitStore(proxy.urlFor(REDIS_URL!), REDIS_KEY_PREFIX!, quiet);
    const rate = parseRate('5/day')!;
    expect((await store.hit('anon:warm', rate)).allowed).toBe(true);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    proxy.hold();
    const check = store.hit('anon:held', rate);
    await proxy.answerHeld();
    return { proxy, store, check };
  }

  it('when the answer came while the process was off the CPU past the timeout, then the answer counts, not the timeout', async () => {
    const { proxy, store, check } = await heldCheck();
    try {
      // As on a busy host: when the process runs again, Redis's answer is waiting and the timeout is due.
      proxy.release();
      vi.advanceTimersByTime(COMMAND_TIMEOUT_MS);
      expect(await check).toMatchObject({ allowed: true, remaining: 4 });
    } finally {
      vi.useRealTimers();
      await store.close();
    }
  });

  it('when no answer came by the timeout, then the check fails', async () => {
    const { proxy, store, check } = await heldCheck();
    try {
      vi.advanceTimersByTime(COMMAND_TIMEOUT_MS);
      await expect(check).rejects.toThrow('Command timed out');
    } finally {
      vi.useRealTimers();
      proxy.release();
      await store.close();
    }
  });
});
