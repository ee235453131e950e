import { describe, expect, it } from 'vitest';
import { createImportTransaction } from '../../src/adapters/db/import-transaction.js';
import { importPrices } from '../../src/app/market-data/import-prices.js';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, SEED_QUOTE, startUpstream, type Vendor } from '../support/upstream.js';


describe.each(testEngines())('market data on %s', (engine) => {
  async function setup(options: { env?: Record<string, string>; order?: Vendor[]; now?: () => Date } = {}) {
    const upstream = await startUpstream();
    const service = await startService(engine, { ...providerEnv(upstream, options.order), ...options.env }, undefined, { now: options.now });
    const key = await register(service.app);
    const get = (url: string, headers: Record<string, string> = {}) =>
      service.app.inject({ method: 'GET', url, headers: { authorization: `Token ${key}`, ...headers } });
    return { upstream, service, key, get };
  }

  describe('GET /api/v1/symbol/{symbol}/', () => {
    it("when Alpha Vantage has the seed's IBM data, then the answer is the seed's example", async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      const response = await get('/api/v1/symbol/ibm/');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toStrictEqual({ ...SEED_QUOTE, symbol: 'IBM', source: 'alphavantage' });
      expect(response.body).toContain('"variation_between_last_two_days":1.57,');
      expect(upstream.calls.alphavantage).toEqual(['IBM']);
    });

    it('when the symbol is invalid, then 400 and no provider is asked', async () => {
      const { upstream, get } = await setup();
      for (const symbol of ['IB%20M', 'A'.repeat(16), 'IBM%3BDROP', '-IBM', 'IBM%0A', '%C3%8DBM']) {
        const response = await get(`/api/v1/symbol/${symbol}/`);
        expect(response.statusCode, symbol).toBe(400);
        expect(response.json().field).toBe('symbol');
      }
      expect(upstream.calls).toEqual({ alphavantage: [], twelvedata: [] });
    });

    it.each(['unknown', 'rate_limited', 'daily_limit', 'premium', 'bad_key', 'http_500', 'html', 'malformed_json', 'no_series', 'slow'] as const)(
      'when Alpha Vantage answers %s, then Twelve Data serves the quote',
      async (kind) => {
        const { upstream, get } = await setup({ env: kind === 'slow' ? { PROVIDER_TIMEOUT_MS: '300' } : {} });
        upstream.set('alphavantage', 'IBM', kind === 'slow' ? { kind, ms: 5000 } : { kind });
        upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: IBM_BARS });
        const response = await get('/api/v1/symbol/IBM/');
        expect(response.statusCode).toBe(200);
        // Twelve Data names the currency of its series; it joins the seed's fields.
        expect(response.json()).toStrictEqual({ ...SEED_QUOTE, symbol: 'IBM', source: 'twelvedata', currency: 'USD' });
        expect(upstream.calls.twelvedata).toEqual(['IBM']);
      },
    );

    it('when MARKET_DATA_PROVIDERS puts Twelve Data first, then Alpha Vantage is not asked', async () => {
      const { upstream, get } = await setup({ order: ['twelvedata', 'alphavantage'] });
      upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: IBM_BARS });
      expect((await get('/api/v1/symbol/IBM/')).json().source).toBe('twelvedata');
      expect(upstream.calls.alphavantage).toEqual([]);
    });

    it('when every provider says the symbol is unknown, then 404, and it is not asked again within the interval', async () => {
      const { upstream, get } = await setup();
      for (let i = 0; i < 3; i++) {
        const response = await get('/api/v1/symbol/NOPE/');
        expect(response.statusCode).toBe(404);
        expect(response.json()).toEqual({ detail: 'Symbol "NOPE" was not found.' });
      }
      expect(upstream.calls).toEqual({ alphavantage: ['NOPE'], twelvedata: ['NOPE'] });
    });

    it('when every provider is rate limited and nothing is stored, then 503 with Retry-After', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'rate_limited' });
      upstream.set('twelvedata', 'IBM', { kind: 'rate_limited' });
      const response = await get('/api/v1/symbol/IBM/');
      expect(response.statusCode).toBe(503);
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.json().detail).toMatch(/rate limited/);
      // Within the back-off, no vendor is asked again.
      expect((await get('/api/v1/symbol/IBM/')).statusCode).toBe(503);
      expect(upstream.calls.alphavantage).toEqual(['IBM']);
    });

    it('when a vendor answers one date twice, then one bar is stored for it, on every engine (never a 500)', async () => {
      const { upstream, get } = await setup({ order: ['twelvedata', 'alphavantage'] });
      const value = (close: string) => ({ datetime: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close, volume: '4236283' });
      upstream.set('twelvedata', 'IBM', { kind: 'json', body: { meta: { symbol: 'IBM', currency: 'USD' }, values: [value('129.5000'), value('130.7900')], status: 'ok' } });
      const response = await get('/api/v1/symbol/IBM/');
      expect(response.statusCode).toBe(200);
      expect(['129.5000', '130.7900']).toContain(response.json().close_value);
      expect((await get('/api/v1/symbol/IBM/history/')).json().bars).toHaveLength(1);
    });

    it('when a vendor answers a price longer than the store keeps, then that vendor counts as unavailable and the next one answers', async () => {
      const { upstream, get } = await setup();
      const long = `1.${'0'.repeat(40)}1`;
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: [{ ...IBM_BARS[0]!, close: long }, ...IBM_BARS.slice(1)] });
      upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: IBM_BARS });
      const response = await get('/api/v1/symbol/IBM/');
      expect(response.statusCode).toBe(200);
      expect(response.json().source).toBe('twelvedata');
    });

    it('when every provider is broken and nothing is stored, then 502', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'http_500' });
      upstream.set('twelvedata', 'IBM', { kind: 'malformed_json' });
      const response = await get('/api/v1/symbol/IBM/');
      expect(response.statusCode).toBe(502);
      expect(response.json().detail).toMatch(/unavailable/);
    });

    it('when a symbol is fetched, then X-Cache says MISS, and HIT while it is fresh, for the quote, the batch and history', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      upstream.set('alphavantage', 'AAPL', { kind: 'bars', bars: IBM_BARS });
      const first = await get('/api/v1/symbol/IBM/');
      expect(first.headers['x-cache']).toBe('MISS');
      expect(first.headers['x-data-stale']).toBeUndefined();
      expect((await get('/api/v1/symbol/IBM/')).headers['x-cache']).toBe('HIT');
      expect((await get('/api/v1/symbol/IBM/history/')).headers['x-cache']).toBe('HIT');
      expect((await get('/api/v1/symbols/?symbols=IBM')).headers['x-cache']).toBe('HIT');
      // A batch says the worst of its symbols: one fetched makes it a MISS.
      expect((await get('/api/v1/symbols/?symbols=IBM,AAPL')).headers['x-cache']).toBe('MISS');
      expect(upstream.calls.alphavantage).toEqual(['IBM', 'AAPL']);
    });

    it('when providers fail after data was stored, then the stored quote is served, marked stale', async () => {
      let now = new Date();
      const { upstream, get } = await setup({ env: { QUOTE_REFRESH_SECONDS: '1' }, now: () => now });
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      expect((await get('/api/v1/symbol/IBM/')).headers['x-data-stale']).toBeUndefined();
      upstream.set('alphavantage', 'IBM', { kind: 'http_500' });
      upstream.set('twelvedata', 'IBM', { kind: 'rate_limited' });
      now = new Date(now.getTime() + 1100); // the 1 s refresh interval passes
      const response = await get('/api/v1/symbol/IBM/');
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-data-stale']).toBe('true');
      expect(response.headers['x-cache']).toBe('STALE');
      expect(response.json()).toStrictEqual({ ...SEED_QUOTE, symbol: 'IBM', source: 'alphavantage' });
      expect(upstream.calls.alphavantage).toEqual(['IBM', 'IBM']);
    });

    it('when 50 requests for one symbol arrive at once, then upstream is asked once', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      const responses = await Promise.all(Array.from({ length: 50 }, () => get('/api/v1/symbol/IBM/')));
      expect(responses.every((r) => r.statusCode === 200)).toBe(true);
      expect(upstream.calls.alphavantage).toEqual(['IBM']);
    });

    it('when 1,000 requests ask for 5 symbols, then upstream is asked 5 times', async () => {
      const { upstream, get } = await setup();
      const symbols = ['IBM', 'AAPL', 'MSFT', 'GOOG', 'TSLA'];
      for (const symbol of symbols) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
      for (let i = 0; i < 1000; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, (_, j) => get(`/api/v1/symbol/${symbols[(i + j) % 5]}/`)));
        expect(batch.every((r) => r.statusCode === 200)).toBe(true);
      }
      expect(upstream.calls.alphavantage.sort()).toEqual([...symbols].sort());
    });
  });

  describe('GET /api/v1/symbols/?symbols=…', () => {
    it('when some symbols fail, then each carries its own answer and the rest succeed', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      upstream.set('alphavantage', 'DOWN', { kind: 'http_500' });
      upstream.set('twelvedata', 'DOWN', { kind: 'http_500' });
      const response = await get('/api/v1/symbols/?symbols=ibm,NOPE,%20DOWN,IBM');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toStrictEqual({
        IBM: { ...SEED_QUOTE, symbol: 'IBM', source: 'alphavantage' },
        NOPE: { detail: 'Symbol "NOPE" was not found.', status: 404 },
        DOWN: { detail: 'Market data providers are unavailable; try again later.', status: 502 },
      });
    });

    it('when more than 100 distinct symbols, an invalid one or none are asked for, then 400', async () => {
      const { upstream, get } = await setup();
      const many = Array.from({ length: 101 }, (_, i) => `S${i}`).join(',');
      expect((await get(`/api/v1/symbols/?symbols=${many}`)).json().field).toBe('symbols');
      const hundred = Array.from({ length: 100 }, () => 'IBM').join(',');
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      expect((await get(`/api/v1/symbols/?symbols=${hundred}`)).statusCode).toBe(200);
      expect((await get('/api/v1/symbols/?symbols=IBM,B%24D')).json().field).toBe('symbol');
      expect((await get('/api/v1/symbols/?symbols=,,')).statusCode).toBe(400);
      expect((await get('/api/v1/symbols/')).statusCode).toBe(400);
    });
  });

  describe('GET /api/v1/symbol/{symbol}/history/', () => {
    it('when no range is given, then the stored bars come oldest first', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      const response = await get('/api/v1/symbol/IBM/history/');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toStrictEqual({
        symbol: 'IBM',
        source: 'alphavantage',
        adjusted: false,
        bars: [...IBM_BARS].reverse(),
      });
      expect(response.headers['x-cache']).toBe('MISS');
    });

    it('when a range is given, then only bars inside it, both ends included; CSV on request', async () => {
      const { upstream, get } = await setup();
      upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
      const json = await get('/api/v1/symbol/IBM/history/?from=2022-07-28&to=2022-07-29');
      expect(json.json().bars.map((b: { date: string }) => b.date)).toEqual(['2022-07-28', '2022-07-29']);
      const csv = await get('/api/v1/symbol/IBM/history/?from=2022-07-28&to=2022-07-28', { accept: 'text/csv' });
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      expect(csv.body).toBe('date,open,high,low,close,volume\n2022-07-28,128.2000,129.5500,127.6600,129.2200,3895133\n');
    });

    it.each([
      ['from=2022-13-01', 'from'],
      ['to=yesterday', 'to'],
      ['from=2022-02-30', 'from'],
      ['from=2022-07-29&to=2022-07-01', 'from'],
    ])('when the range is %s, then 400 names %s', async (query, field) => {
      const { get } = await setup();
      const response = await get(`/api/v1/symbol/IBM/history/?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().field).toBe(field);
    });
  });
});

describe.each(testEngines())('the sandbox on %s', (engine) => {
  it('when no provider is configured, then quotes are synthetic, deterministic and say so', async () => {
    const { app } = await startService(engine);
    const key = await register(app);
    const ask = () => app.inject({ method: 'GET', url: '/api/v1/symbol/msft/', headers: { 'x-api-key': key } });
    const first = await ask();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ symbol: 'MSFT', source: 'sandbox' });
    expect(first.json().close_value).toMatch(/^\d+\.\d{4}$/);
    expect((await ask()).json()).toStrictEqual(first.json());
    const history = await app.inject({ method: 'GET', url: '/api/v1/symbol/msft/history/', headers: { 'x-api-key': key } });
    expect(history.json().bars).toHaveLength(100);
    expect(history.json().source).toBe('sandbox');
  });

  it("when a ticker is outside the sandbox's universe, then it is the usual 404, alone, in a batch and through the gateway", async () => {
    const { app } = await startService(engine);
    const key = await register(app);
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    const single = await get('/api/v1/symbol/NOPE/');
    expect(single.statusCode).toBe(404);
    expect(single.json()).toStrictEqual({ detail: 'Symbol "NOPE" was not found.' });
    const batch = await get('/api/v1/symbols/?symbols=IBM,AAPL,NOPE');
    expect(batch.statusCode).toBe(200);
    expect(batch.json().NOPE).toStrictEqual({ detail: 'Symbol "NOPE" was not found.', status: 404 });
    expect(batch.json().IBM).toMatchObject({ symbol: 'IBM', source: 'sandbox' });
    expect(batch.json().AAPL).toMatchObject({ symbol: 'AAPL', source: 'sandbox' });
    // As Alpha Vantage answers an unknown symbol: 200 with its "Error Message".
    const gateway = await get(`/query?function=GLOBAL_QUOTE&symbol=NOPE&apikey=${key}`);
    expect(gateway.statusCode).toBe(200);
    expect(gateway.json()['Error Message']).toMatch(/^Invalid API call\. .* for GLOBAL_QUOTE\.$/);
  });

  it("when IBM's seed sessions are asked, then they are the seed's, and no bar falls on a weekend or NYSE holiday", async () => {
    const { app } = await startService(engine);
    const key = await register(app);
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    const seed = await get('/api/v1/symbol/IBM/history/?from=2022-07-26&to=2022-07-29');
    expect(seed.json()).toStrictEqual({
      symbol: 'IBM',
      source: 'sandbox',
      adjusted: false,
      bars: [
        { date: '2022-07-26', open: '128.6200', high: '129.3900', low: '127.6200', close: '128.0800', volume: 3642175 },
        { date: '2022-07-27', open: '128.4600', high: '129.0500', low: '127.7900', close: '128.8000', volume: 3582307 },
        { date: '2022-07-28', open: '128.2000', high: '129.5500', low: '127.6600', close: '129.2200', volume: 3895133 },
        { date: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: 4236283 },
      ],
    });
    const around = await get('/api/v1/symbol/IBM/history/?from=2022-07-01&to=2022-07-08');
    expect(around.json().bars.map((bar: { date: string }) => bar.date)).toEqual(['2022-07-01', '2022-07-05', '2022-07-06', '2022-07-07', '2022-07-08']);
    const thanksgiving = await get('/api/v1/symbol/IBM/history/?from=2023-11-20&to=2023-11-27');
    expect(thanksgiving.json().bars.map((bar: { date: string }) => bar.date)).toEqual(['2023-11-20', '2023-11-21', '2023-11-22', '2023-11-24', '2023-11-27']);
  });

  it("when AAPL's history is asked adjusted, then it differs from the raw one across its 2020-08-31 split, which /actions shows", async () => {
    const { app } = await startService(engine);
    const key = await register(app);
    const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    const range = 'from=2020-08-27&to=2020-09-01';
    const raw = (await get(`/api/v1/symbol/AAPL/history/?${range}`)).json().bars;
    const adjusted = (await get(`/api/v1/symbol/AAPL/history/?${range}&adjusted=true`)).json().bars;
    expect(raw.map((bar: { date: string }) => bar.date)).toEqual(['2020-08-27', '2020-08-28', '2020-08-31', '2020-09-01']);
    // As traded, the price falls to about a quarter on the split's date; adjusted, it runs on.
    expect(+raw[1].close / +raw[2].open).toBeGreaterThan(3.5);
    expect(+adjusted[1].close / +adjusted[2].open).toBeLessThan(1.15);
    expect(+adjusted[1].close).toBeLessThan(+raw[1].close / 3.5);
    expect(adjusted[1].volume).toBeGreaterThan(raw[1].volume * 3.9);
    const actions = (await get('/api/v1/symbol/AAPL/actions/')).json();
    expect(actions.splits).toEqual(
      expect.arrayContaining([
        { date: '2014-06-09', factor: '7' },
        { date: '2020-08-31', factor: '4' },
      ]),
    );
    expect(actions.dividends.length).toBeGreaterThan(40);
  });

  it('when a symbol has imported history, then the sandbox serves it alone, never mixed with synthetic bars', async () => {
    let now = new Date();
    const service = await startService(engine, {}, undefined, { now: () => now });
    const key = await register(service.app);
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    // Synthetic bars stored first, as after a keyless run asked for IBM; then real history is imported.
    expect((await get('/api/v1/symbol/IBM/')).json().source).toBe('sandbox');
    await importPrices(createImportTransaction(service.db, { sandboxSource: 'sandbox', realProviders: false }), 'IBM', { bars: IBM_BARS });
    now = new Date(now.getTime() + 2 * 3_600_000); // past the quote cache and the refresh interval: the sandbox is asked again

    const quote = await get('/api/v1/symbol/IBM/');
    expect(quote.json()).toStrictEqual({ ...SEED_QUOTE, symbol: 'IBM', source: 'import' });
    const history = await get('/api/v1/symbol/IBM/history/');
    expect(history.json().bars).toStrictEqual([...IBM_BARS].reverse());
    // Another symbol is still synthetic.
    expect((await get('/api/v1/symbol/MSFT/')).json().source).toBe('sandbox');
  });

  it('when a real provider is configured later, then stored sandbox bars are never served as real data', async () => {
    const { createTestDatabase } = await import('../support/engines.js');
    const database = await createTestDatabase(engine);
    try {
      const sandbox = await startService(engine, {}, database);
      const key = await register(sandbox.app);
      await sandbox.app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/', headers: { 'x-api-key': key } });
      await sandbox.close();

      const upstream = await startUpstream();
      upstream.set('alphavantage', 'IBM', { kind: 'http_500' });
      upstream.set('twelvedata', 'IBM', { kind: 'http_500' });
      const real = await startService(engine, providerEnv(upstream), database);
      const response = await real.app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/', headers: { 'x-api-key': key } });
      expect(response.statusCode).toBe(502);
      await real.close();
    } finally {
      await database.drop();
    }
  });
});

