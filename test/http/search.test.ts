import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { providerEnv, startUpstream } from '../support/upstream.js';

const IBM_MATCH = { symbol: 'IBM', name: 'International Business Machines Corp', type: 'Equity', region: 'United States', currency: 'USD' };

describe.each(testEngines())('symbol search on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    let now = new Date('2026-11-23T15:00:00Z');
    const upstream = await startUpstream();
    const service = await startService(engine, { ...providerEnv(upstream), ...env }, undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    return { upstream, get, later: (ms: number) => (now = new Date(now.getTime() + ms)) };
  }

  it('when a name matches, then the matches come with the provider, and the same query folded costs no second call', async () => {
    const { upstream, get } = await setup();
    upstream.setFor('alphavantage', 'search', 'intern', { kind: 'matches', matches: [{ ...IBM_MATCH }] });
    const first = await get('/api/v1/search/?q=intern');
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    expect(first.json()).toStrictEqual({ query: 'intern', matches: [{ ...IBM_MATCH, provider: 'alphavantage' }] });

    for (const q of ['INTERN', '%20intern%20', '%EF%BC%A9%EF%BD%8E%EF%BD%94%EF%BD%85%EF%BD%92%EF%BD%8E']) {
      const again = await get(`/api/v1/search/?q=${q}`);
      expect(again.headers['x-cache'], q).toBe('HIT');
      expect(again.json().matches, q).toStrictEqual(first.json().matches);
    }
    expect(upstream.capabilityCalls.alphavantage.search).toEqual(['intern']);
  });

  it('when nothing matches, then an empty list, cached too', async () => {
    const { upstream, get } = await setup();
    expect((await get('/api/v1/search/?q=zzzz')).json()).toStrictEqual({ query: 'zzzz', matches: [] });
    expect((await get('/api/v1/search/?q=zzzz')).headers['x-cache']).toBe('HIT');
    expect(upstream.capabilityCalls.alphavantage.search).toEqual(['zzzz']);
  });

  it('when a day has passed, then the query is asked upstream again', async () => {
    const { upstream, get, later } = await setup();
    await get('/api/v1/search/?q=apple');
    later(86_400_000 - 1);
    expect((await get('/api/v1/search/?q=apple')).headers['x-cache']).toBe('HIT');
    later(1);
    expect((await get('/api/v1/search/?q=apple')).headers['x-cache']).toBe('MISS');
    expect(upstream.capabilityCalls.alphavantage.search).toEqual(['apple', 'apple']);
  });

  it('when Alpha Vantage is rate limited, then Twelve Data answers, with its exchange', async () => {
    const { upstream, get } = await setup();
    upstream.setFor('alphavantage', 'search', 'apple', { kind: 'rate_limited' });
    upstream.setFor('twelvedata', 'search', 'apple', { kind: 'matches', matches: [{ symbol: 'AAPL', name: 'Apple Inc', exchange: 'NASDAQ', type: 'Common Stock', currency: 'USD' }] });
    const response = await get('/api/v1/search/?q=apple');
    expect(response.json().matches).toStrictEqual([
      expect.objectContaining({ symbol: 'AAPL', name: 'Apple Inc', exchange: 'NASDAQ', type: 'Common Stock', currency: 'USD', provider: 'twelvedata' }),
    ]);
  });

  it('when every provider fails, then 502 with nothing cached, and the day-old answer (STALE) with one', async () => {
    const { upstream, get, later } = await setup();
    upstream.setFor('alphavantage', 'search', 'intern', { kind: 'matches', matches: [IBM_MATCH] });
    await get('/api/v1/search/?q=intern');
    for (const vendor of ['alphavantage', 'twelvedata'] as const) {
      upstream.setFor(vendor, 'search', 'intern', { kind: 'http_500' });
      upstream.setFor(vendor, 'search', 'other', { kind: 'http_500' });
    }
    expect((await get('/api/v1/search/?q=other')).statusCode).toBe(502);
    later(86_400_000);
    const stale = await get('/api/v1/search/?q=intern');
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.json().matches[0].symbol).toBe('IBM');
  });

  it("when a client searches many new queries, then past its fair share of the day's calls it is refused, and cached ones still answer", async () => {
    // 10 calls a day and a fair share of 0.2: two lookups for this client.
    const { get } = await setup({ MARKET_DATA_PROVIDERS: 'alphavantage', ALPHAVANTAGE_DAILY_LIMIT: '10' });
    expect((await get('/api/v1/search/?q=one')).statusCode).toBe(200);
    expect((await get('/api/v1/search/?q=two')).statusCode).toBe(200);
    const refused = await get('/api/v1/search/?q=three');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get('/api/v1/search/?q=one')).statusCode).toBe(200);
  });

  it.each([
    ['', 'give a company name or ticker'],
    ['%20%20', 'give a company name or ticker'],
    ['a'.repeat(65), 'at most 64 characters'],
    ['ibm%00', 'NUL'],
    ['ibm%25', 'letters, digits, spaces'],
    ['%2A', 'letters, digits, spaces'],
  ])('when q is "%s", then 400 names q and no provider is asked', async (q, detail) => {
    const { upstream, get } = await setup();
    const response = await get(`/api/v1/search/?q=${q}`);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ field: 'q' });
    expect(response.json().detail).toContain(detail);
    expect(upstream.capabilityCalls.alphavantage.search).toEqual([]);
  });

  it('when q is missing, then 400 names q', async () => {
    const { get } = await setup();
    const response = await get('/api/v1/search/');
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/q/);
  });

  it('when no key is sent, then 401', async () => {
    const upstream = await startUpstream();
    const { app } = await startService(engine, providerEnv(upstream));
    expect((await app.inject({ method: 'GET', url: '/api/v1/search/?q=ibm' })).statusCode).toBe(401);
  });
});

describe.each(testEngines())('symbol search in the sandbox on %s', (engine) => {
  it('when no provider is configured, then well-known symbols are found offline', async () => {
    const { app } = await startService(engine);
    const key = await register(app);
    const response = await app.inject({ method: 'GET', url: '/api/v1/search/?q=ibm', headers: { 'x-api-key': key } });
    expect(response.statusCode).toBe(200);
    expect(response.json().matches[0]).toMatchObject({ symbol: 'IBM', provider: 'sandbox', currency: 'USD' });
  });
});
