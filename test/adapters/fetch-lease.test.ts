import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisFetchLease } from '../../src/adapters/redis/fetch-lease.js';
import { createLocalFetchLease, type FetchLease } from '../../src/app/market-data/refresh.js';
import { register } from '../support/api.js';
import { createTestDatabase, testEngines, testRedisEnv, testRedisUrl } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

const clients: Redis[] = [];
afterEach(() => {
  while (clients.length > 0) clients.pop()?.disconnect();
});

function redisLease(prefix: string): FetchLease {
  const redis = new Redis(testRedisUrl());
  clients.push(redis);
  return createRedisFetchLease(redis, prefix, { warn: () => undefined });
}

describe.each([
  ['in-process', () => createLocalFetchLease()],
  ['Redis', () => redisLease(testRedisEnv().REDIS_KEY_PREFIX!)],
] as const)('the upstream-fetch lease, %s', (_name, create) => {
  it('when one holder has a key, then no one else gets it until it is released', async () => {
    const lease = create();
    const release = await lease.acquire('IBM', 10_000);
    expect(release).toBeDefined();
    expect(await lease.acquire('IBM', 10_000)).toBeUndefined();
    expect(await lease.acquire('AAPL', 10_000), 'another key is free').toBeDefined();
    await release!();
    expect(await lease.acquire('IBM', 10_000)).toBeDefined();
  });

  it('when a holder never releases (it crashed), then the key is free again after its ttl', async () => {
    const lease = create();
    expect(await lease.acquire('IBM', 200)).toBeDefined();
    await vi.waitFor(async () => expect(await lease.acquire('IBM', 10_000)).toBeDefined(), { timeout: 5_000, interval: 50 });
  });

  it('when a holder releases after its lease expired and another took it, then the other keeps it', async () => {
    const lease = create();
    const late = await lease.acquire('IBM', 100);
    await vi.waitFor(async () => expect(await lease.acquire('IBM', 10_000)).toBeDefined(), { timeout: 5_000, interval: 50 });
    await late!();
    expect(await lease.acquire('IBM', 10_000)).toBeUndefined();
  });
});

describe('the upstream-fetch lease, Redis unreachable', () => {
  it('when Redis cannot be reached, then the fetch goes ahead without the lease and it is logged', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    clients.push(redis);
    const warnings: string[] = [];
    const lease = createRedisFetchLease(redis, 'sms-test:', { warn: (_details, message) => warnings.push(message) });
    expect(await lease.acquire('IBM', 10_000)).toBeDefined();
    expect(warnings).toEqual(['the upstream-fetch lease cannot be taken (Redis unreachable); fetching without it']);
  });
});

// Several instances share one database only on PostgreSQL.
describe.each(testEngines().filter((e) => e === 'postgres'))('one upstream fetch per symbol across two instances on %s and Redis', (engine) => {
  async function twoInstances() {
    const upstream = await startUpstream();
    const database = await createTestDatabase(engine);
    // No daily quota: one client may look up every symbol of the load (the fair share is not what is tested).
    const env: Record<string, string> = { ...providerEnv(upstream), ALPHAVANTAGE_DAILY_LIMIT: '0', ...testRedisEnv() };
    const a = await startService(engine, env, database);
    const b = await startService(engine, env, database);
    const key = await register(a.app);
    const quote = (on: typeof a) => on.app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/', headers: { authorization: `Token ${key}` } });
    return { upstream, database, env, a, b, key, quote };
  }

  it('when both are asked for the same symbols at once, then each symbol is fetched upstream once and both answer the same', async () => {
    const { upstream, database, a, b, key } = await twoInstances();
    const symbols = ['IBM', 'AAPL', 'MSFT', 'KO', 'T', 'GE'];
    // The first call is held until every request was sent, so the others find the store still empty (Alpha
    // Vantage is called one at a time, so the rest queue behind it); then each call is let go as it comes.
    for (const symbol of symbols) upstream.set('alphavantage', symbol, { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
    let releasing: NodeJS.Timeout | undefined;
    try {
      const ask = (on: typeof a, symbol: string) => on.app.inject({ method: 'GET', url: `/api/v1/symbol/${symbol}/`, headers: { authorization: `Token ${key}` } });
      const answering = Promise.all(symbols.flatMap((symbol) => [a, b, a, b].map((on) => ask(on, symbol))));
      await upstream.callsReached('alphavantage', 1);
      releasing = setInterval(() => {
        while (upstream.heldCount('alphavantage') > 0) upstream.release('alphavantage');
      }, 10);
      const answers = await answering;
      expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 200));
      expect(new Set(answers.map((answer) => answer.body)).size).toBe(symbols.length);
      expect([...upstream.calls.alphavantage].sort()).toEqual([...symbols].sort());
      expect(upstream.calls.twelvedata).toEqual([]);
    } finally {
      clearInterval(releasing);
      await a.close();
      await b.close();
      await database.drop();
    }
  });

  it('when the lease is held by an instance that died, then the symbol is fetched once its ttl runs out', async () => {
    const { upstream, database, env, a, b, quote } = await twoInstances();
    const redis = new Redis(testRedisUrl());
    clients.push(redis);
    try {
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      // What a holder that crashed mid-fetch leaves behind.
      await redis.set(`${env.REDIS_KEY_PREFIX}fetch-lease:IBM`, 'dead-holder', 'PX', 1500);
      const response = await quote(a);
      expect(response.statusCode).toBe(200);
      expect(upstream.calls.alphavantage).toEqual(['IBM']);
      expect((await quote(b)).headers['x-cache']).toBe('HIT');
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
