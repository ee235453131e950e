import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { register } from '../support/api.js';
import { createTestDatabase, testEngines, testRedisEnv } from '../support/engines.js';
import { startService } from '../support/service.js';

const STORES = { memory: () => ({}), redis: testRedisEnv } as const;
/** Throttling belongs to the HTTP layer and the rate-limit store, not the database: one engine suffices. */
const engine = testEngines()[0]!;

describe.each(Object.keys(STORES) as (keyof typeof STORES)[])('throttling with the %s store', (store) => {
  const storeEnv = STORES[store];

  it('when an anonymous client passes its limit, then 429 in DRF words with Retry-After', async () => {
    const { app } = await startService(engine, { ...storeEnv(), THROTTLE_ANON: '3/day' });
    const ask = () => app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/' });
    for (let i = 0; i < 3; i++) {
      const response = await ask();
      expect(response.statusCode).toBe(401); // counted, then refused for want of a key
      expect(response.headers['ratelimit-policy']).toBe('"anon";q=3;w=86400');
      expect(response.headers.ratelimit).toMatch(new RegExp(`^"anon";r=${2 - i};t=\\d+$`));
    }
    const throttled = await ask();
    expect(throttled.statusCode).toBe(429);
    const wait = Number(throttled.headers['retry-after']);
    expect(wait).toBeGreaterThan(86_300);
    expect(wait).toBeLessThanOrEqual(86_400); // never more than the window, as DRF
    expect(Number(/t=(\d+)$/.exec(throttled.headers.ratelimit as string)?.[1])).toBeLessThanOrEqual(86_400);
    // DRF's words, written out; the number is whatever second the wait rounds up to, and agrees with Retry-After.
    const detail = /^Request was throttled\. Expected available in (\d+) seconds\.$/.exec(throttled.json().detail);
    expect(detail, throttled.body).not.toBeNull();
    expect(Number(detail![1])).toBe(wait);
    expect(Object.keys(throttled.json())).toEqual(['detail']);
  });

  it('when a client is authenticated, then it counts against its own user limit, not the address', async () => {
    const { app } = await startService(engine, { ...storeEnv(), THROTTLE_ANON: '2/day', THROTTLE_USER: '4/day' });
    const key = await register(app); // anonymous request 1
    const me = () => app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await me()).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/' })).statusCode).toBe(401); // anonymous request 2
    expect((await app.inject({ method: 'GET', url: '/api/v1/me/' })).statusCode).toBe(429);
  });

  it('when /me is asked, then it reports the usage of the rolling window', async () => {
    const { app } = await startService(engine, { ...storeEnv(), THROTTLE_USER: '10/day' });
    const key = await register(app);
    await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
    const response = await app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
    expect(response.json().usage).toMatchObject({ rate: '10/day', used: 2, remaining: 8 });
  });

  it('when the rate is per second, then the 429 states a one-second wait in DRF words', async () => {
    // That the window then rolls on is shown on an injected clock (test/adapters/rate-limit-stores.test.ts).
    const { app } = await startService(engine, { ...storeEnv(), THROTTLE_ANON: '2/second' });
    const ask = () => app.inject({ method: 'GET', url: '/api/v1/me/' });
    await ask();
    await ask();
    const throttled = await ask();
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1'); // never more than the window, rounding included
    expect(throttled.json()).toEqual({ detail: 'Request was throttled. Expected available in 1 second.' });
  });

  it('when TRUST_PROXY is set, then X-Forwarded-For names the client; otherwise it is ignored', async () => {
    const trusting = await startService(engine, { ...storeEnv(), THROTTLE_ANON: '1/day', TRUST_PROXY: '1' });
    const fromClient = (app: typeof trusting.app, client: string) =>
      app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-forwarded-for': client } });
    expect((await fromClient(trusting.app, '203.0.113.1')).statusCode).toBe(401);
    expect((await fromClient(trusting.app, '203.0.113.2')).statusCode).toBe(401);
    expect((await fromClient(trusting.app, '203.0.113.1')).statusCode).toBe(429);
    // A client cannot escape by prepending its own XFF entry: the proxy's is the one believed.
    expect((await fromClient(trusting.app, '198.51.100.9, 203.0.113.2')).statusCode).toBe(429);

    const naive = await startService(engine, { ...storeEnv(), THROTTLE_ANON: '1/day' });
    expect((await fromClient(naive.app, '203.0.113.1')).statusCode).toBe(401);
    expect((await fromClient(naive.app, '203.0.113.2')).statusCode).toBe(429);
  });

  it('when registrations are refused (bad email, email taken, a replayed Idempotency-Key), then they do not spend THROTTLE_REGISTER; accounts created do', async () => {
    const { app } = await startService(engine, { ...storeEnv(), THROTTLE_REGISTER: '3/day' });
    const registerAs = (email: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/api/v1/register/', headers, payload: { name: 'Dave', last_name: 'Mustaine', email } });
    const once = { 'idempotency-key': 'first-registration-0001' };
    const created = await registerAs('dave@example.com', once);
    expect(created.statusCode).toBe(201);
    expect(created.headers.ratelimit).toMatch(/"register";r=2;/);

    // Bad emails, then the one already registered (as registration normalises it), one after the other.
    for (const email of ['not-an-email', 'dave@', '@example.com', '', 'dave@example.com', 'DAVE@example.com']) {
      const response = await registerAs(email);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().detail).toMatch(/^email: /);
      // Counted while it ran, given back before the answer: the fields say what is left.
      expect(response.headers.ratelimit, response.body).toMatch(/"register";r=2;/);
    }
    const replayed = await registerAs('dave@example.com', once);
    expect(replayed.statusCode, replayed.body).toBe(409);
    expect(replayed.headers.ratelimit).toMatch(/"register";r=2;/);

    expect((await registerAs('marty@example.com')).statusCode).toBe(201);
    expect((await registerAs('david@example.com')).statusCode).toBe(201);
    const spent = await registerAs('nick@example.com');
    expect(spent.statusCode).toBe(429);
    expect(spent.json().detail).toMatch(/^Request was throttled\. Expected available in \d+ seconds\.$/);
  });

  it('when one client fires 50 valid registrations and 50 refused ones at once, then at most the limit of accounts is created, and exactly the limit in all', async () => {
    const { app } = await startService(engine, { ...storeEnv(), THROTTLE_REGISTER: '10/day' });
    const registerAs = (email: string) =>
      app.inject({ method: 'POST', url: '/api/v1/register/', payload: { name: 'Dave', last_name: 'Mustaine', email } });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => [registerAs(`racer${i}@example.com`), registerAs(`not-an-email-${i}`)]).flat(),
    );
    const statuses = answers.map((answer) => answer.statusCode);
    const created = statuses.filter((status) => status === 201).length;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThanOrEqual(10);
    // A refused one still needs a unit while it runs: while the allowance is held, it may be a 429 instead.
    const invalidOnes = statuses.filter((_, i) => i % 2 === 1);
    expect(invalidOnes.every((status) => status === 400 || status === 429)).toBe(true);
    expect(statuses.every((status) => [201, 400, 429].includes(status))).toBe(true);
    // Every refused one was given back: what is left is the limit less the accounts created, no more, no less.
    let more = 0;
    while ((await registerAs(`later${more}@example.com`)).statusCode === 201) more++;
    expect(created + more).toBe(10);
  });

  it('when THROTTLE_TRADES is not set, then the ledger is counted per address at 10000/day', async () => {
    const { app } = await startService(engine, storeEnv());
    const first = await app.inject({ method: 'GET', url: '/trades' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"trades";q=10000;w=86400');
    expect(first.headers.ratelimit).toMatch(/^"trades";r=9999;t=\d+$/);
  });

  it('when THROTTLE_TRADES is off, then the ledger is not throttled; when set, it is', async () => {
    const open = await startService(engine, { ...storeEnv(), THROTTLE_ANON: '1/day', THROTTLE_TRADES: 'off' });
    for (let i = 0; i < 5; i++) expect((await open.app.inject({ method: 'GET', url: '/trades' })).statusCode).toBe(200);

    const limited = await startService(engine, { ...storeEnv(), THROTTLE_TRADES: '2/minute' });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await limited.app.inject({ method: 'GET', url: '/trades' })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('throttling shared through Redis', () => {
  it('when two instances share one Redis and 50 requests race at the edge, then exactly the limit passes', async () => {
    // Each on its own database: what they share is Redis alone.
    const env = { ...testRedisEnv(), THROTTLE_ANON: '20/day' };
    const a = await startService(engine, env);
    const b = await startService(engine, env);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).app.inject({ method: 'GET', url: '/api/v1/me/' })),
    );
    expect(responses.filter((r) => r.statusCode === 401)).toHaveLength(20);
    expect(responses.filter((r) => r.statusCode === 429)).toHaveLength(30);
  });

  it('when Redis is unreachable, then requests are still served at once and /health says degraded', async () => {
    // "At once" without a stopwatch: on a clock that stands still once the service is up, a request that
    // waited for a reconnect, a retry or a command timeout would never be answered; one that fails fast is.
    // Until then the fake clock follows the real one: start-up waits its connect timeout for Redis, then goes
    // on without it, and sees no more time pass than did (a clock run ahead of the work would fire timeouts).
    const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } = globalThis;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    let app: Awaited<ReturnType<typeof startService>>['app'];
    try {
      vi.setTimerTickMode('interval', 20);
      ({ app } = await startService(engine, { REDIS_URL: 'redis://127.0.0.1:1', THROTTLE_ANON: '1/day' }));
      vi.setTimerTickMode('manual');
      const answers = Promise.all([
        ...Array.from({ length: 3 }, () => app.inject({ method: 'GET', url: '/trades' })),
        ...Array.from({ length: 3 }, () => app.inject({ method: 'GET', url: '/api/v1/me/' })),
      ]).then((responses) => responses.map((r) => r.statusCode));
      // Awaited on the real clock (vi.waitFor would move the fake one), with a ceiling so that a request that
      // waits fails the test with a message, not at the test's timeout.
      let ceiling: ReturnType<typeof setTimeout> | undefined;
      const never = new Promise<string>((resolve) => (ceiling = realSetTimeout(() => resolve('not answered while the clock stood still'), 15_000)));
      expect(await Promise.race([answers, never])).toEqual([200, 200, 200, 401, 401, 401]);
      realClearTimeout(ceiling);
    } finally {
      vi.useRealTimers();
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'degraded', database: 'ok', rate_limit_store: 'redis: unreachable', apicalls_log: { status: 'ok', dropped: 0 } });
  });

  it('when Redis is unreachable and RATE_LIMIT_ON_STORE_FAILURE=deny, then 503 with a detail', async () => {
    const { app } = await startService(engine, { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_ON_STORE_FAILURE: 'deny' });
    const response = await app.inject({ method: 'GET', url: '/api/v1/me/' });
    expect(response.statusCode).toBe(503);
    expect(response.json().detail).toMatch(/rate cannot be checked/);
  });

  it('when Redis is reachable, then /health says ok', async () => {
    const { app } = await startService(engine, testRedisEnv());
    await vi.waitFor(async () => {
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.json()).toEqual({ status: 'ok', database: 'ok', rate_limit_store: 'redis: ok', apicalls_log: { status: 'ok', dropped: 0 } });
    }, { timeout: 10_000 });
  });
});

// Only PostgreSQL serves several instances on one database (see key-races.test.ts).
describe.each(testEngines().filter((e) => e === 'postgres'))('keys shared through Redis by two instances on one %s database', (engine) => {
  it('when a key is rotated on one instance, then another instance refuses it at once', async () => {
    const redis = testRedisEnv();
    const database = await createTestDatabase(engine);
    try {
      const env = { ...redis, AUTH_CACHE_SECONDS: '3600' };
      const a = await startService(engine, env, database);
      const b = await startService(engine, env, database);
      const key = await register(a.app);
      const onB = () => b.app.inject({ method: 'GET', url: '/api/v1/me/', headers: { 'x-api-key': key } });
      expect((await onB()).statusCode).toBe(200); // B has cached the key for an hour
      // Both instances listen for revocations (adapters/pubsub/key-revocations.ts names the channel).
      const raw = new Redis(redis.REDIS_URL!);
      try {
        const channel = `${redis.REDIS_KEY_PREFIX}account-keys-revoked`;
        await vi.waitFor(async () => expect(await raw.pubsub('NUMSUB', channel)).toEqual([channel, 2]), { timeout: 10_000 });
      } finally {
        raw.disconnect();
      }
      const rotated = await a.app.inject({ method: 'POST', url: '/api/v1/keys/rotate/', headers: { 'x-api-key': key } });
      expect(rotated.statusCode).toBe(201);
      // A loaded machine may take a while to read the message; the cache alone would take an hour.
      await vi.waitFor(async () => expect((await onB()).statusCode).toBe(401), { timeout: 10_000 });
      await a.close();
      await b.close();
    } finally {
      await database.drop();
    }
  });
});
