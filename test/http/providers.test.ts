import type { FastifyInstance } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { register } from '../support/api.js';
import { createTestDatabase, testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream, type Vendor } from '../support/upstream.js';

/** 15:00 UTC on a Monday: nine hours before the vendors' daily quotas reset. */
const START = new Date('2026-11-23T15:00:00Z');
const at = (ms: number) => new Date(START.getTime() + ms).toISOString();

interface ProvidersAnswer {
  providers: Record<string, unknown>[];
  requests_served_today: number;
  upstream_calls_today: number;
  saved_ratio: number | null;
}

function clientOf(app: FastifyInstance, key: string) {
  return (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Token ${key}` } });
}

describe.each(testEngines())('the upstream economy, visible, on %s', (engine) => {
  async function setup(options: { env?: Record<string, string>; order?: Vendor[] } = {}) {
    let now = START;
    const upstream = await startUpstream();
    upstream.clock = () => now;
    const service = await startService(engine, { ...providerEnv(upstream, options.order), ...options.env }, undefined, { now: () => now });
    const get = clientOf(service.app, await register(service.app));
    const providers = async () => {
      const answer = await get('/api/v1/providers/');
      expect(answer.statusCode).toBe(200);
      return answer.json<ProvidersAnswer>();
    };
    const provider = async (name: string) => (await providers()).providers.find((p) => p.name === name);
    const advance = (ms: number) => void (now = new Date(now.getTime() + ms));
    return { upstream, service, get, providers, provider, advance };
  }

  it('when 10 requests ask for one symbol, then one upstream call served them: 10 served, 1 call, 0.9 saved', async () => {
    const { upstream, get, providers } = await setup({ order: ['alphavantage'] });
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    expect((await providers()).saved_ratio).toBeNull(); // nothing served yet

    for (let i = 0; i < 10; i++) expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(upstream.calls.alphavantage).toEqual(['IBM']);

    const answer = await providers();
    expect(answer).toEqual({
      providers: [
        // Alpha Vantage documents no per-minute limit: none is counted.
        { name: 'alphavantage', configured: true, state: 'ok', calls_today: 1, daily_limit: 25, calls_this_minute: null, minute_limit: null },
        // Known, but without a key in MARKET_DATA_PROVIDERS: a self-hoster sees what it could add.
        { name: 'twelvedata', configured: false },
      ],
      requests_served_today: 10,
      upstream_calls_today: 1,
      saved_ratio: 0.9,
    });
  });

  it('when a batch asks for three distinct symbols, then it counts three served; errors and /providers/ count none', async () => {
    const { upstream, get, providers } = await setup({ order: ['alphavantage'] });
    for (const symbol of ['IBM', 'AAPL', 'MSFT']) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
    expect((await get('/api/v1/symbols/?symbols=IBM,aapl,MSFT,ibm')).statusCode).toBe(200);
    expect((await get('/api/v1/symbol/NOPE/')).statusCode).toBe(404);
    expect((await get('/api/v1/symbol/IBM/history/')).statusCode).toBe(200);
    const answer = await providers();
    expect(answer.requests_served_today).toBe(4);
    expect(answer.upstream_calls_today).toBe(4);
    expect(answer.saved_ratio).toBe(0);
  });

  it('when a provider has spent its minute, then it shows rate_limited until the minute ends, then ok', async () => {
    const { upstream, get, provider, advance } = await setup({ order: ['twelvedata'], env: { TWELVEDATA_MINUTE_LIMIT: '1' } });
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: IBM_BARS });
    advance(30_000); // 15:00:30
    expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect(await provider('twelvedata')).toMatchObject({ state: 'rate_limited', until: at(60_000), calls_this_minute: 1, minute_limit: 1 });

    advance(30_000);
    expect(await provider('twelvedata')).toMatchObject({ state: 'ok', calls_this_minute: 0, calls_today: 1 });
  });

  it("when the vendor refuses with its rate-limit notice, then it shows rate_limited until the refusal ends", async () => {
    const { upstream, get, provider, advance } = await setup();
    upstream.set('alphavantage', 'IBM', { kind: 'rate_limited' }); // "5 calls per minute": a minute
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: IBM_BARS });
    expect((await get('/api/v1/symbol/IBM/')).json().source).toBe('twelvedata');
    expect(await provider('alphavantage')).toMatchObject({ state: 'rate_limited', until: at(60_000) });
    expect(await provider('twelvedata')).toMatchObject({ state: 'ok' });

    advance(60_000);
    expect(await provider('alphavantage')).toMatchObject({ state: 'ok' });
  });

  it("when a provider's calls fail, then it shows failing since the first failure with the kind only, never the vendor's text; an answer ends it", async () => {
    const { upstream, get, providers, provider, advance } = await setup();
    upstream.set('alphavantage', 'IBM', { kind: 'quotes_key' }); // its notice repeats our key
    upstream.set('alphavantage', 'AAPL', { kind: 'http_500' });
    for (const symbol of ['IBM', 'AAPL', 'MSFT']) upstream.set('twelvedata', symbol, { kind: 'bars', bars: IBM_BARS });

    expect((await get('/api/v1/symbol/IBM/')).json().source).toBe('twelvedata');
    advance(5_000);
    expect((await get('/api/v1/symbol/AAPL/')).json().source).toBe('twelvedata');
    const answer = await providers();
    expect(answer.providers[0]).toEqual({
      name: 'alphavantage',
      configured: true,
      state: 'failing',
      since: START.toISOString(),
      last_error: 'unavailable',
      calls_today: 2,
      daily_limit: 25,
      calls_this_minute: null,
      minute_limit: null,
    });
    expect(JSON.stringify(answer)).not.toContain('av-test-key');

    upstream.set('alphavantage', 'MSFT', { kind: 'bars', bars: IBM_BARS });
    expect((await get('/api/v1/symbol/MSFT/')).json().source).toBe('alphavantage');
    expect(await provider('alphavantage')).toMatchObject({ state: 'ok' });
  });

  it('when an account looks up new symbols, then /me/ shows its lookups today rising and its fair share falling', async () => {
    const { upstream, get } = await setup({ order: ['alphavantage'] });
    for (const symbol of ['IBM', 'AAPL']) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
    const share = async () => (await get('/api/v1/me/')).json().upstream_lookups;

    // A fifth of the 25 calls left: 0 < 5, 1 < 4.8, 2 < 4.6, 3 < 4.4, 4 < 4.2 — five lookups.
    expect(await share()).toEqual({ alphavantage: { lookups_today: 0, fair_share_left: 5 } });
    await get('/api/v1/symbol/IBM/');
    expect(await share()).toEqual({ alphavantage: { lookups_today: 1, fair_share_left: 4 } });
    await get('/api/v1/symbol/IBM/'); // stored: no lookup
    await get('/api/v1/symbol/AAPL/');
    expect(await share()).toEqual({ alphavantage: { lookups_today: 2, fair_share_left: 3 } });
    // The fields /me/ had stay as they were.
    expect(Object.keys(await (await get('/api/v1/me/')).json())).toEqual(
      expect.arrayContaining(['name', 'last_name', 'email', 'created_at', 'key_prefix', 'usage']),
    );
  });

  it('when the sandbox serves, then it shows as itself, uncounted, and both vendors as not configured', async () => {
    const service = await startService(engine);
    const get = clientOf(service.app, await register(service.app));
    expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(200);
    expect((await get('/api/v1/providers/')).json()).toEqual({
      providers: [
        { name: 'sandbox', configured: true, state: 'ok', calls_today: null, daily_limit: null, calls_this_minute: null, minute_limit: null },
        { name: 'alphavantage', configured: false },
        { name: 'twelvedata', configured: false },
      ],
      requests_served_today: 1,
      upstream_calls_today: 0,
      saved_ratio: 1,
    });
    expect((await get('/api/v1/me/')).json().upstream_lookups).toEqual({});
  });

  it('when asked without a key, then 401; the route is in the OpenAPI document', async () => {
    const service = await startService(engine);
    const anonymous = await service.app.inject({ method: 'GET', url: '/api/v1/providers/' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().detail).toMatch(/credentials/i);
    const openapi = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toContain('/api/v1/providers');
    expect(openapi.paths['/api/v1/me'].get.responses['200'].content['application/json'].schema.properties).toHaveProperty('upstream_lookups');
  });

  it('when two instances serve, then each counts what it served and both see the total once flushed', async () => {
    const database = await createTestDatabase(engine);
    // Each instance also flushes its count every 5 s (compose.ts): on a clock that never moves, only when told to,
    // however long the test takes.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const [one, two] = [await startService(engine, {}, database), await startService(engine, {}, database)];
      const getOne = clientOf(one.app, await register(one.app, 'one@example.com'));
      const getTwo = clientOf(two.app, await register(two.app, 'two@example.com'));
      for (let i = 0; i < 3; i++) await getOne('/api/v1/symbol/IBM/');
      await getTwo('/api/v1/symbol/IBM/');
      // Unflushed, each instance sees only its own count beside what is stored.
      expect((await getTwo('/api/v1/providers/')).json().requests_served_today).toBe(1);

      await one.flushServedCounts();
      await two.flushServedCounts();
      expect((await getOne('/api/v1/providers/')).json().requests_served_today).toBe(4);
      expect((await getTwo('/api/v1/providers/')).json().requests_served_today).toBe(4);
      await one.close();
      await two.close();
    } finally {
      vi.useRealTimers();
      await database.drop();
    }
  });
});
