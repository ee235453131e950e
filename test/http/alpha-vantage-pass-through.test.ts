import type { AddressInfo } from 'node:net';
import alpha from 'alphavantage';
import { describe, expect, it, vi } from 'vitest';
import { register } from '../support/api.js';
import { testEngines, testRedisEnv } from '../support/engines.js';
import { startService } from '../support/service.js';
import { avPremiumNotice, providerEnv, startUpstream, type Upstream } from '../support/upstream.js';

// The only look inside: how often the services have read the pass-through cache, so the test of single
// flight knows every request has looked for a kept answer (and found none) before the vendor answers.
const cacheReads = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/adapters/db/pass-through-cache.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/adapters/db/pass-through-cache.js')>();
  return {
    createPassThroughCache: (...args: Parameters<typeof actual.createPassThroughCache>) => {
      const cache = actual.createPassThroughCache(...args);
      return { ...cache, get: (key: string) => ((cacheReads.count += 1), cache.get(key)) };
    },
  };
});

/** The stand-in's documented OVERVIEW of IBM, as the service passes it back. */
const IBM_OVERVIEW = {
  Symbol: 'IBM', AssetType: 'Common Stock', Name: 'International Business Machines', CIK: '51143', Exchange: 'NYSE', Currency: 'USD',
  Country: 'USA', Sector: 'TECHNOLOGY', FiscalYearEnd: 'December', LatestQuarter: '2022-06-30', MarketCapitalization: '118116057000',
  PERatio: '22.33', DividendYield: '0.0498',
};
const invalidCall = (name: string) => ({
  'Error Message': `Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for ${name}.`,
});
const NO_KEY = {
  Information: "This function is passed through to Alpha Vantage with the service's own Alpha Vantage key, and this service has none configured.",
};
const SERVICE_KEY = 'av-test-key';

/** Every passed-through call the stand-in received, as `FUNCTION?a=1&b=2` with the key it came with. */
const received = (upstream: Upstream) => upstream.passThroughCalls.map((c) => `${c.function}?${new URLSearchParams(c.params).toString()} ${c.key}`);

describe.each(testEngines())('Alpha Vantage functions passed through by the gateway on %s', (engine) => {
  async function setup(env: Record<string, string> = {}, now?: () => Date) {
    const upstream = await startUpstream();
    const service = await startService(engine, { ...providerEnv(upstream), ...env }, undefined, now ? { now } : {});
    const key = await register(service.app);
    const query = (parameters: string, options: { key?: string; address?: string } = {}) =>
      service.app.inject({ method: 'GET', url: `/query?${parameters}&apikey=${options.key ?? key}`, remoteAddress: options.address });
    return { upstream, service, key, query };
  }

  it("when two clients ask for a company's overview, then the first is fetched with the service's key (MISS) and the second kept (HIT): one upstream call", async () => {
    const { upstream, service, key, query } = await setup();
    const first = await query('function=OVERVIEW&symbol=IBM');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.json()).toStrictEqual(IBM_OVERVIEW);
    expect(first.headers['x-cache']).toBe('MISS');
    const other = await register(service.app, 'other@example.com');
    const second = await query('symbol=IBM&function=OVERVIEW&x=junk&datatype=json', { key: other });
    expect(second.body).toBe(first.body);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(received(upstream)).toEqual([`OVERVIEW?symbol=IBM ${SERVICE_KEY}`]);
    expect(received(upstream).join()).not.toContain(key);
    const metrics = (await service.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^pass_through_answers_total\{result="miss"\} 1$/m);
    expect(metrics).toMatch(/^pass_through_answers_total\{result="hit"\} 1$/m);
  });

  it("when the client's key travels in any spelling of apikey, or in a header, then only the service's key reaches Alpha Vantage", async () => {
    const { upstream, key, service } = await setup();
    const url = `/query?function=CURRENCY_EXCHANGE_RATE&from_currency=USD&to_currency=EUR&APIKEY=${key}&ApiKey=${key}`;
    const answer = await service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    expect(answer.json()['Realtime Currency Exchange Rate']['5. Exchange Rate']).toBe('0.97890000');
    expect(received(upstream)).toEqual([`CURRENCY_EXCHANGE_RATE?from_currency=USD&to_currency=EUR ${SERVICE_KEY}`]);
  });

  it('when Alpha Vantage says a call is invalid, then its "Error Message" is passed back and kept: a client repeating it spends nothing', async () => {
    const { upstream, query } = await setup();
    for (const cache of ['MISS', 'HIT']) {
      const answer = await query('function=TIME_SERIES_INTRADAY&symbol=IBM&interval=2min');
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toStrictEqual(invalidCall('TIME_SERIES_INTRADAY'));
      expect(answer.headers['x-cache']).toBe(cache);
    }
    expect(upstream.passThroughCalls).toHaveLength(1);
  });

  it("when a function is premium on the service's key, then Alpha Vantage's notice is passed back and kept a day", async () => {
    let now = new Date('2026-12-07T15:00:00Z');
    const { upstream, query } = await setup({}, () => now);
    const first = await query('function=REALTIME_BULK_QUOTES&symbol=IBM,AAPL');
    expect(first.json()).toStrictEqual({ Information: avPremiumNotice });
    expect(first.headers['x-cache']).toBe('MISS');
    now = new Date('2026-12-08T14:59:00Z');
    expect((await query('function=REALTIME_BULK_QUOTES&symbol=IBM,AAPL')).headers['x-cache']).toBe('HIT');
    now = new Date('2026-12-08T15:00:01Z');
    expect((await query('function=REALTIME_BULK_QUOTES&symbol=IBM,AAPL')).headers['x-cache']).toBe('MISS');
    expect(upstream.passThroughCalls).toHaveLength(2);
  });

  it('when Alpha Vantage says its daily limit is reached, then "Information" with Retry-After, nothing kept, and no call is made until the quota resets', async () => {
    const { upstream, query } = await setup();
    upstream.setPassThrough('OVERVIEW', { kind: 'daily_limit' });
    const limited = await query('function=OVERVIEW&symbol=IBM');
    expect(limited.statusCode).toBe(200);
    expect(limited.json()).toStrictEqual({ Information: 'Market data providers are rate limited; try again later.' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-cache']).toBeUndefined();
    upstream.setPassThrough('OVERVIEW', { kind: 'documented' });
    // The same call is held back as long as the vendor said; any other finds the day's quota marked spent.
    const again = await query('function=OVERVIEW&symbol=IBM');
    expect(again.json()).toStrictEqual({ Information: 'Market data providers are rate limited; try again later.' });
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    const other = await query('function=FX_DAILY&from_symbol=EUR&to_symbol=USD');
    expect(other.json()).toStrictEqual({ Information: "Market data providers' quota is spent until it resets; stored quotes are still served. Try again later." });
    expect(Number(other.headers['retry-after'])).toBeGreaterThan(0);
    expect(upstream.passThroughCalls).toHaveLength(1);
  });

  it("when a client has spent its fair share of the day's calls, then its next new call is \"Information\" and not made; another client's is", async () => {
    const { upstream, service, query } = await setup(); // Alpha Vantage's 25 a day: a client's share is 5
    for (const symbol of ['AAA', 'BBB', 'CCC', 'DDD', 'EEE']) expect((await query(`function=OVERVIEW&symbol=${symbol}`)).headers['x-cache']).toBe('MISS');
    const refused = await query('function=OVERVIEW&symbol=FFF');
    expect(refused.json().Information).toMatch(/^Your share of today's upstream lookups/);
    expect(refused.headers['retry-after']).toBeDefined();
    // What is kept is still served to it.
    expect((await query('function=OVERVIEW&symbol=AAA')).headers['x-cache']).toBe('HIT');
    expect(upstream.passThroughCalls).toHaveLength(5);
    const other = await register(service.app, 'other@example.com');
    const answered = await query('function=OVERVIEW&symbol=FFF', { key: other, address: '198.51.100.7' });
    expect(answered.json().Symbol).toBe('FFF');
    expect(upstream.passThroughCalls).toHaveLength(6);
  });

  it('when the realtime exchange rate is a minute old, then it is asked again; when asking fails, the kept answer is served STALE', async () => {
    let now = new Date('2026-12-07T15:00:00Z');
    const { upstream, query } = await setup({}, () => now);
    const rate = 'function=CURRENCY_EXCHANGE_RATE&from_currency=USD&to_currency=JPY';
    const first = await query(rate);
    expect(first.headers['x-cache']).toBe('MISS');
    now = new Date('2026-12-07T15:00:59Z');
    expect((await query(rate)).headers['x-cache']).toBe('HIT');
    now = new Date('2026-12-07T15:01:00Z');
    expect((await query(rate)).headers['x-cache']).toBe('MISS');
    expect(upstream.passThroughCalls).toHaveLength(2);

    now = new Date('2026-12-07T15:02:30Z');
    upstream.setPassThrough('CURRENCY_EXCHANGE_RATE', { kind: 'http_500' });
    const stale = await query(rate);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.headers['x-data-stale']).toBe('true');
    expect(stale.body).toBe(first.body);
  });

  it('when CSV is asked, then Alpha Vantage\'s CSV comes as text/csv, kept apart from the JSON answer; an error is JSON still', async () => {
    const { upstream, query } = await setup();
    const csv = await query('function=FX_DAILY&from_symbol=EUR&to_symbol=USD&datatype=csv');
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toBe('timestamp,open,high,low,close\r\n2022-07-29,1.0189,1.0254,1.0145,1.0222\r\n2022-07-28,1.0197,1.0234,1.0114,1.0193\r\n');
    const json = await query('function=FX_DAILY&from_symbol=EUR&to_symbol=USD&datatype=json');
    expect(json.json()['Time Series FX (Daily)']['2022-07-29']['4. close']).toBe('1.0222');
    expect(json.headers['x-cache']).toBe('MISS');
    expect((await query('function=FX_DAILY&to_symbol=USD&from_symbol=EUR')).headers['x-cache']).toBe('HIT'); // json is the default
    const error = await query('function=FX_DAILY&from_symbol=EUR&datatype=csv');
    expect(error.headers['content-type']).toMatch(/^application\/json/);
    expect(error.json()).toStrictEqual(invalidCall('FX_DAILY'));
    expect(upstream.passThroughCalls.map((c) => c.function)).toEqual(['FX_DAILY', 'FX_DAILY', 'FX_DAILY']);
  });

  it('when an economic indicator or an intraday series is asked, then Alpha Vantage answers it', async () => {
    const { upstream, query } = await setup();
    expect((await query('function=REAL_GDP&interval=annual')).json()).toMatchObject({ name: 'Real Gross Domestic Product', unit: 'billions of dollars' });
    const intraday = await query('function=TIME_SERIES_INTRADAY&symbol=IBM&interval=5min');
    expect(Object.keys(intraday.json()['Time Series (5min)'])).toEqual(['2022-07-29 19:55:00', '2022-07-29 19:50:00']);
    // A technical indicator at an intraday interval is Alpha Vantage's to compute.
    upstream.setPassThrough('RSI', { kind: 'json', body: { 'Meta Data': { '1: Symbol': 'IBM' }, 'Technical Analysis: RSI': {} } });
    expect((await query('function=RSI&symbol=IBM&interval=5min&time_period=14&series_type=close')).json()).toHaveProperty('Technical Analysis: RSI');
    expect(received(upstream).at(-1)).toBe(`RSI?interval=5min&series_type=close&symbol=IBM&time_period=14 ${SERVICE_KEY}`);
  });

  it.each([
    ['an unknown function', 'function=TIME_SERIES_HOURLY&symbol=IBM', { 'Error Message': 'This API function (TIME_SERIES_HOURLY) does not exist.' }],
    [
      'a function Alpha Vantage retired',
      'function=TIME_SERIES_INTRADAY_EXTENDED&symbol=IBM&interval=5min&slice=year1month1',
      {
        'Error Message':
          'This API function (TIME_SERIES_INTRADAY_EXTENDED) is not offered by this service: Alpha Vantage retired it into TIME_SERIES_INTRADAY, whose month parameter (YYYY-MM) gives a past month.',
      },
    ],
    ['a NUL byte', 'function=OVERVIEW&symbol=IB%00M', invalidCall('OVERVIEW')],
    ['a line break', 'function=OVERVIEW&symbol=IB%0AM', invalidCall('OVERVIEW')],
    ['bytes that are not UTF-8', 'function=OVERVIEW&symbol=IB%FFM', invalidCall('OVERVIEW')],
    ['a value of 20 KB', `function=OVERVIEW&symbol=${'A'.repeat(20_000)}`, invalidCall('OVERVIEW')],
    ['500 parameters', `function=OVERVIEW&symbol=IBM&${Array.from({ length: 500 }, (_, i) => `p${i}=x`).join('&')}`, invalidCall('OVERVIEW')],
  ])('when a call has %s, then HTTP 200 with Alpha Vantage\'s "Error Message" and no upstream call', async (_, parameters, expected) => {
    const { upstream, query } = await setup();
    const answer = await query(parameters);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toStrictEqual(expected);
    expect(upstream.passThroughCalls).toEqual([]);
  });

  it('when an answer is larger than the service keeps, then Alpha Vantage\'s "Error Message" says so, and that is kept too', async () => {
    const { upstream, query } = await setup({ PASS_THROUGH_MAX_ANSWER_BYTES: '1024', PASS_THROUGH_CACHE_MAX_BYTES: '4096' });
    upstream.setPassThrough('INCOME_STATEMENT', { kind: 'json', body: { symbol: 'IBM', annualReports: [{ note: 'x'.repeat(2000) }] } });
    for (const cache of ['MISS', 'HIT']) {
      const answer = await query('function=INCOME_STATEMENT&symbol=IBM');
      expect(answer.json()['Error Message']).toMatch(/^The answer to this call of INCOME_STATEMENT is larger than this service passes through/);
      expect(answer.headers['x-cache']).toBe(cache);
    }
    expect(upstream.passThroughCalls).toHaveLength(1);
  });

  it('when calls carry long parameter values, then what the cache holds of them counts against its bound too: the kept calls stay within PASS_THROUGH_CACHE_MAX_BYTES', async () => {
    const { service, query } = await setup({ PASS_THROUGH_MAX_ANSWER_BYTES: '1024', PASS_THROUGH_CACHE_MAX_BYTES: '4096' });
    // Documented parameters OVERVIEW does not take: forwarded and kept, each value up to 1000 characters.
    const names = ['limit', 'sort', 'topics', 'tickers', 'time_from', 'time_to', 'maturity', 'horizon', 'state', 'date', 'quarter', 'from', 'contract', 'expiration'];
    for (const symbol of ['AAA', 'BBB', 'CCC']) {
      const junk = names.map((name) => `${name}=${'x'.repeat(1000)}`).join('&');
      expect((await query(`function=OVERVIEW&symbol=${symbol}&${junk}`)).statusCode).toBe(200);
    }
    const rows = await service.db.selectFrom('pass_through_answers').select(['query', 'body']).execute();
    const held = rows.reduce((sum, row) => sum + Buffer.byteLength(row.query) + Buffer.byteLength(row.body), 0);
    expect(held).toBeLessThanOrEqual(4096);
  });

  it("when a passed-through call is made, then it is counted against the key's allowance like any call", async () => {
    const { query } = await setup({ THROTTLE_USER: '2/day' });
    expect((await query('function=OVERVIEW&symbol=IBM')).headers.ratelimit).toBe('"user";r=1;t=86400');
    expect((await query('function=OVERVIEW&symbol=IBM')).headers.ratelimit).toBe('"user";r=0;t=86400');
    expect((await query('function=OVERVIEW&symbol=IBM')).json()).toStrictEqual({ Information: 'Request was throttled. Expected available in 86400 seconds.' });
  });

  it.each([
    ['no provider (the sandbox)', { MARKET_DATA_PROVIDERS: '', ALPHAVANTAGE_API_KEY: '', TWELVEDATA_API_KEY: '' }],
    ['Twelve Data only', { MARKET_DATA_PROVIDERS: 'twelvedata' }],
  ])("when the service has %s, then a passed-through function is \"Information\" that it needs the service's Alpha Vantage key", async (_, env) => {
    const { upstream, query } = await setup(env);
    const answer = await query('function=OVERVIEW&symbol=IBM');
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toStrictEqual(NO_KEY);
    expect(upstream.passThroughCalls).toEqual([]);
  });

  it('when clients ask one call at once on two instances sharing the database and Redis, then Alpha Vantage is asked once and every client gets its answer', async () => {
    const upstream = await startUpstream();
    const env = { ...providerEnv(upstream), ...testRedisEnv() };
    const a = await startService(engine, env);
    const b = await startService(engine, env, a.database);
    const keys = await Promise.all(['1', '2', '3', '4', '5', '6'].map((n) => register(a.app, `client${n}@example.com`)));
    upstream.setPassThrough('EARNINGS', { kind: 'held', then: { kind: 'json', body: { symbol: 'IBM', annualEarnings: [{ fiscalDateEnding: '2021-12-31', reportedEPS: '7.93' }] } } });
    const readsBefore = cacheReads.count;
    const asking = keys.map((key, i) =>
      (i % 2 === 0 ? a : b).app.inject({ method: 'GET', url: `/query?function=EARNINGS&symbol=IBM&apikey=${key}`, remoteAddress: `198.51.100.${i + 1}` }),
    );
    await upstream.passThroughReached(1);
    // Held until the cache has been read as often as there are clients (each looks once, then fetches or waits
    // for the fetch), so the clients are under way, not served one after another, when Alpha Vantage answers.
    await vi.waitFor(() => expect(cacheReads.count - readsBefore).toBeGreaterThanOrEqual(keys.length), { timeout: 20_000 });
    upstream.release('alphavantage', 'EARNINGS');
    const answers = await Promise.all(asking);
    expect(answers.map((answer) => answer.json().annualEarnings[0].reportedEPS)).toEqual(keys.map(() => '7.93'));
    expect(upstream.passThroughCalls).toHaveLength(1);
    for (const service of [a, b]) {
      const later = await service.app.inject({ method: 'GET', url: `/query?function=EARNINGS&symbol=IBM&apikey=${keys[0]}` });
      expect(later.headers['x-cache']).toBe('HIT');
    }
    expect(upstream.passThroughCalls).toHaveLength(1);
  });
});

describe.each(testEngines())('the published Alpha Vantage client (alphavantage 2.5.0) on %s, for passed-through functions', (engine) => {
  it("when only its base URL and key are changed, then a company's overview and an exchange rate come as Alpha Vantage gives them", async () => {
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream));
    const key = await register(service.app);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as AddressInfo;
    // The client keeps its base URL in the config object it was given (`config.base + params`); it has no other setting for it.
    const config: { key: string; base?: string } = { key };
    const av = alpha(config);
    config.base = `http://127.0.0.1:${port}/query?apikey=${key}&`;

    expect(await av.fundamental.company_overview('IBM')).toStrictEqual(IBM_OVERVIEW);
    const rate = (await av.forex.rate('USD', 'EUR')) as Record<string, Record<string, string>>;
    expect(rate['Realtime Currency Exchange Rate']).toMatchObject({ '1. From_Currency Code': 'USD', '3. To_Currency Code': 'EUR', '5. Exchange Rate': '0.97890000' });
    expect(received(upstream)).toEqual([`OVERVIEW?symbol=IBM ${SERVICE_KEY}`, `CURRENCY_EXCHANGE_RATE?from_currency=USD&to_currency=EUR ${SERVICE_KEY}`]);
  });
});
