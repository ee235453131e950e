import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines, testRedisEnv } from '../support/engines.js';
import { seedTrades } from '../support/ledger.js';
import { startService, type TestService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

/**
 * The ledger is open to anyone (POST /trades needs no key and is unthrottled by
 * default), so a user_id's ledger may be as long, as busy and as strange as an
 * attacker likes. These tests hold the portfolio routes to work bounded per
 * request (none for a request refused before its cost is known), to one ledger
 * per answer while trades arrive, and to CSV no spreadsheet runs.
 */
describe.each(testEngines())('portfolios against a hostile ledger on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    const service = await startService(engine, env); // the offline sandbox prices any valid symbol
    const key = await register(service.app);
    const get = (url: string, headers: Record<string, string> = { 'x-api-key': key }) => service.app.inject({ method: 'GET', url, headers });
    const used = async () => (await get('/api/v1/me/')).json().usage.used as number;
    return { service, key, get, used };
  }

  async function trade(service: TestService, symbol: string, userId = 7) {
    const response = await service.app.inject({ method: 'POST', url: '/trades', payload: { type: 'buy', user_id: userId, symbol, shares: 1, price: 10, timestamp: 1 } });
    expect(response.statusCode).toBe(201);
  }

  /** Runs `check` with the trades table out of reach: any request that reads the ledger fails. */
  async function withoutLedger(service: TestService, check: () => Promise<void>) {
    await sql`alter table trades rename to trades_away`.execute(service.db);
    try {
      await check();
    } finally {
      await sql`alter table trades_away rename to trades`.execute(service.db);
    }
  }

  it('when the allowance is spent, or no key or a wrong key is sent, then the answer comes without reading the ledger', async () => {
    const { service, get } = await setup({ THROTTLE_USER: '2/day' });
    await trade(service, 'IBM');
    expect((await get('/api/v1/me/')).statusCode).toBe(200);
    expect((await get('/api/v1/me/')).statusCode).toBe(200);
    await withoutLedger(service, async () => {
      for (const url of ['/api/v1/portfolio/7/', '/api/v1/portfolio/7/history/']) {
        const spent = await get(url);
        expect(spent.statusCode, url).toBe(429);
        expect(spent.json().detail, url).toMatch(/^Request was throttled\. Expected available in \d+ seconds\.$/);
        expect((await get(url, {})).statusCode, url).toBe(401);
        expect((await get(url, { 'x-api-key': 'wrong' })).statusCode, url).toBe(401);
      }
    });
  });

  it.each([
    ['in memory', {}],
    ['in Redis', testRedisEnv()],
  ])('when a portfolio costs more than is left (counted %s), then 429 and it counts as one request, so asking again is never free', async (_, store) => {
    const { service, get, used } = await setup({ THROTTLE_USER: '5/day', ...store });
    for (const symbol of ['AAA', 'BBB', 'CCC']) await trade(service, symbol);
    expect(await used()).toBe(1);
    expect(await used()).toBe(2); // 3 left: the portfolio costs 3 …
    expect(await used()).toBe(3); // … 2 left: it no longer fits
    const refused = await get('/api/v1/portfolio/7/');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers.ratelimit).toMatch(/^"user";r=1;t=\d+$/);
    expect(await used()).toBe(5); // the refused portfolio, then this
    await withoutLedger(service, async () => {
      expect((await get('/api/v1/portfolio/7/')).statusCode).toBe(429); // spent: nothing read
    });
  });

  it('when trades are recorded while a value over time is being worked out, then the answer is the ledger as it was when the request came, none of them half-counted', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'held', then: { kind: 'bars', bars: IBM_BARS } });
    const service = await startService(engine, providerEnv(upstream));
    const key = await register(service.app);
    const record = (t: object) => service.app.inject({ method: 'POST', url: '/trades', payload: { user_id: 7, shares: 10, price: 100, ...t } });
    expect((await record({ type: 'buy', symbol: 'IBM', timestamp: Date.parse('2022-07-26T15:00:00Z') })).statusCode).toBe(201);
    const asked = service.app.inject({ method: 'GET', url: '/api/v1/portfolio/7/history/?from=2022-07-27&to=2022-07-29', headers: { 'x-api-key': key } });
    await upstream.callsReached('alphavantage', 1); // the trades have been read once, IBM is being priced
    // Recorded now, both before the range ends: a sell of the IBM held, and a symbol the request has not priced.
    expect((await record({ type: 'sell', symbol: 'IBM', timestamp: Date.parse('2022-07-26T16:00:00Z') })).statusCode).toBe(201);
    expect((await record({ type: 'buy', symbol: 'MSFT', timestamp: Date.parse('2022-07-27T16:00:00Z') })).statusCode).toBe(201);
    upstream.release('alphavantage', 'IBM');
    const response = await asked;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({
      user_id: 7,
      from: '2022-07-27',
      to: '2022-07-29',
      points: [
        { date: '2022-07-27', market_value: '1280.8000', cost_basis: '1000.0000', unrealised_pl: '280.8000', dividends: '0.0000' },
        { date: '2022-07-28', market_value: '1292.2000', cost_basis: '1000.0000', unrealised_pl: '292.2000', dividends: '0.0000' },
        { date: '2022-07-29', market_value: '1307.9000', cost_basis: '1000.0000', unrealised_pl: '307.9000', dividends: '0.0000' },
      ],
      unpriced: [],
      applied_actions: [],
      actions_unavailable: [],
    });
  });

  it('when stored symbols hold CSV syntax or spreadsheet formulas, then each CSV field is quoted as it must be and no field starts a formula', async () => {
    const { service, key, get } = await setup();
    const hostile = ['=1+2', '+SUM(A1)', '-2', '@cmd', '\tTAB', '\rCR', ' =1+2', '\u00a0@cmd', 'a,b', 'q"q', 'x\ny'];
    for (const symbol of hostile) await trade(service, symbol);
    const response = await get('/api/v1/portfolio/7/', { 'x-api-key': key, accept: 'text/csv' });
    expect(response.statusCode).toBe(200);
    const rest = `,1,long,10.0000,10.0000,0.0000,,,,"not a valid symbol (symbol: must be 1 to 15 letters, digits, '.' or '-', starting with a letter or digit)",,,,,,0.0000,,`;
    // By code point: TAB, CR, space, +, -, =, @, letters, NBSP. A formula behind white space is one too, to an import that trims it.
    const symbols = ["'\tTAB", '"\'\rCR"', "' =1+2", "'+SUM(A1)", "'-2", "'=1+2", "'@cmd", '"a,b"', '"q""q"', '"x\ny"', "'\u00a0@cmd"];
    expect(response.body).toBe([response.body.split('\n')[0], ...symbols.map((s) => s + rest), ''].join('\n'));
    // The JSON keeps each symbol as stored.
    const json = await get('/api/v1/portfolio/7/');
    expect(json.json().positions.map((p: { symbol: string }) => p.symbol).sort()).toEqual([...hostile].sort());
  });

  it('when a user has more trades than a request folds, then 400 names user_id, and an earlier day that holds fewer is served', async () => {
    const { service, get } = await setup();
    // 10,000 trades up to timestamp 9999, one more at 2022-07-29.
    const last = Date.parse('2022-07-29T12:00:00Z');
    await seedTrades(service.db, 10_001, (i) => ({ type: 'buy', user_id: 5, symbol: 'IBM', shares: 1, price: 10, timestamp: i < 10_000 ? i : last }));
    const detail = 'user_id: this user has more than 10000 trades up to the day asked; a portfolio folds at most 10000 per request';
    for (const url of ['/api/v1/portfolio/5/', '/api/v1/portfolio/5/?as_of=2022-07-29', '/api/v1/portfolio/5/history/?from=2022-07-01&to=2022-07-29']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toEqual({ detail, field: 'user_id' });
    }
    const earlier = await get('/api/v1/portfolio/5/?as_of=2022-07-28');
    expect(earlier.statusCode).toBe(200);
    expect(earlier.json().positions).toMatchObject([{ symbol: 'IBM', shares: 10_000, cost_basis: '100000.0000' }]);
    expect((await get('/api/v1/portfolio/5/history/?from=2022-07-01&to=2022-07-28')).statusCode).toBe(200);
  });
});
