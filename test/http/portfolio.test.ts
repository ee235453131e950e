import { UNIVERSE } from '../../src/adapters/providers/sandbox/universe.js';
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { type Bar, IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

const AAPL_BARS: Bar[] = [
  { date: '2022-07-29', open: '156.0000', high: '161.0000', low: '155.0000', close: '160.0000', volume: 1000 },
  { date: '2022-07-28', open: '151.0000', high: '156.0000', low: '150.0000', close: '155.5000', volume: 1000 },
  { date: '2022-07-27', open: '149.0000', high: '151.0000', low: '148.0000', close: '150.0000', volume: 1000 },
];

const at = (iso: string) => Date.parse(iso); // trade timestamps are epoch milliseconds

/**
 * User 7's ledger, by hand:
 * IBM  buy 10 @100, buy 10 @110 (as "ibm"), sell 5 @120 on 07-28 → 15 at an average of 105 (cost 1575), 75 realised.
 * AAPL buy 4 @50, sell 6 @60 on 07-29 → 40 realised on the 4, then short 2 at 60 (cost basis −120).
 * NOPE buy 3 @7: no provider knows it.
 */
const LEDGER = [
  { type: 'buy', symbol: 'IBM', shares: 10, price: 100, timestamp: at('2022-07-25T15:00:00Z') },
  // Recorded before the second buy but timed after it: trades count in time order, so the average is 105, not
  // (500 + 1100) / 15 as it would be in the order recorded. At the last millisecond of the 28th, it counts for as_of=2022-07-28.
  { type: 'sell', symbol: 'IBM', shares: 5, price: 120, timestamp: at('2022-07-28T23:59:59.999Z') },
  { type: 'buy', symbol: 'ibm', shares: 10, price: 110, timestamp: at('2022-07-26T15:00:00Z') },
  { type: 'buy', symbol: 'NOPE', shares: 3, price: 7, timestamp: at('2022-07-26T15:00:00Z') },
  { type: 'buy', symbol: 'AAPL', shares: 4, price: 50, timestamp: at('2022-07-26T16:00:00Z') },
  { type: 'sell', symbol: 'AAPL', shares: 6, price: 60, timestamp: at('2022-07-29T12:00:00Z') },
];

describe.each(testEngines())('portfolios on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    upstream.set('alphavantage', 'AAPL', { kind: 'bars', bars: AAPL_BARS });
    // A quota roomy enough that a client's fair share holds the symbols' first splits and dividends (two
    // lookups each) besides their bars: this ledger is about the figures; the fair share has its own test.
    const service = await startService(engine, { ...providerEnv(upstream), ALPHAVANTAGE_DAILY_LIMIT: '100', ...env });
    for (const trade of LEDGER) {
      const response = await service.app.inject({ method: 'POST', url: '/trades', payload: { ...trade, user_id: 7 } });
      expect(response.statusCode).toBe(201);
    }
    const key = await register(service.app);
    const get = (url: string, headers: Record<string, string> = {}) =>
      service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key, ...headers } });
    const used = async () => (await get('/api/v1/me/')).json().usage.used as number;
    return { upstream, service, get, used };
  }

  it("when a user's trades are valued at the latest closes, then each position and the totals are the hand-computed ones, and the unknown symbol is listed unpriced", async () => {
    const { get, upstream } = await setup();
    const response = await get('/api/v1/portfolio/7/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.json()).toStrictEqual({
      user_id: 7,
      as_of: null,
      positions: [
        {
          symbol: 'AAPL', shares: -2, side: 'short', average_cost: '60.0000', cost_basis: '-120.0000', realised_pl: '40.0000',
          price: '160.0000', price_date: '2022-07-29', cache: 'MISS', reason: null,
          market_value: '-320.0000', unrealised_pl: '-200.0000', unrealised_pl_percent: '-166.6667',
          day_change: '-9.0000', day_change_percent: '-2.8939', // −2 × 4.5, of 311
          dividends: '0.0000', total_return: '-160.0000', actions_reason: null, // −200 unrealised + 40 realised
        },
        {
          symbol: 'IBM', shares: 15, side: 'long', average_cost: '105.0000', cost_basis: '1575.0000', realised_pl: '75.0000',
          price: '130.7900', price_date: '2022-07-29', cache: 'MISS', reason: null,
          market_value: '1961.8500', unrealised_pl: '386.8500', unrealised_pl_percent: '24.5619',
          day_change: '23.5500', day_change_percent: '1.2150',
          dividends: '0.0000', total_return: '461.8500', actions_reason: null, // 386.85 + 75
        },
        {
          symbol: 'NOPE', shares: 3, side: 'long', average_cost: '7.0000', cost_basis: '21.0000', realised_pl: '0.0000',
          price: null, price_date: null, cache: null, reason: 'Symbol "NOPE" was not found.',
          market_value: null, unrealised_pl: null, unrealised_pl_percent: null, day_change: null, day_change_percent: null,
          dividends: '0.0000', total_return: null, actions_reason: null,
        },
      ],
      totals: {
        cost_basis: '1476.0000', // 1575 − 120 + 21
        market_value: '1641.8500', // priced only
        realised_pl: '115.0000',
        unrealised_pl: '186.8500', // 1641.85 − 1455
        unrealised_pl_percent: '11.0236', // of 1575 + 120
        day_change: '14.5500',
        positions: 3,
        unpriced: 1,
        dividends: '0.0000',
        total_return: '301.8500', // 186.85 + 115
      },
      applied_actions: [],
    });
    expect(upstream.calls.alphavantage.sort()).toEqual(['AAPL', 'IBM', 'NOPE']);
    // Priced again within the refresh interval: from the store.
    expect((await get('/api/v1/portfolio/7')).headers['x-cache']).toBe('HIT');
  });

  it('when a portfolio is priced, then it costs one request per distinct symbol priced, as a batch does', async () => {
    const { get, used } = await setup({ THROTTLE_USER: '10/day' });
    const response = await get('/api/v1/portfolio/7/');
    expect(response.statusCode).toBe(200);
    expect(response.headers.ratelimit).toMatch(/^"user";r=7;t=\d+$/); // AAPL, IBM, NOPE
    expect(await used()).toBe(4);
    expect((await get('/api/v1/portfolio/8/')).json().positions).toEqual([]); // nothing to price: 1, as any request
    expect((await get('/api/v1/portfolio/x/')).statusCode).toBe(400); // refused: 1
    expect(await used()).toBe(7);
  });

  it('when a portfolio costs more than the whole allowance, then 400 names user_id and it counts as one request', async () => {
    const { get, used } = await setup({ THROTTLE_USER: '2/day' });
    const response = await get('/api/v1/portfolio/7/');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: 'user_id: costs 3 requests, more than the whole allowance of 2/day; ask for fewer at a time', field: 'user_id' });
    expect(await used()).toBe(2);
  });

  it("when as_of names a day, then only trades up to that day's end count, valued at its close", async () => {
    const { get } = await setup();
    const response = await get('/api/v1/portfolio/7/?as_of=2022-07-28');
    expect(response.statusCode).toBe(200);
    const { as_of, positions, totals } = response.json();
    expect(as_of).toBe('2022-07-28');
    expect(positions.map((p: { symbol: string; shares: number }) => [p.symbol, p.shares])).toEqual([['AAPL', 4], ['IBM', 15], ['NOPE', 3]]);
    expect(positions[0]).toMatchObject({ price: '155.5000', price_date: '2022-07-28', market_value: '622.0000', unrealised_pl: '422.0000', day_change: '22.0000', day_change_percent: '3.6667' });
    expect(positions[1]).toMatchObject({ price: '129.2200', price_date: '2022-07-28', market_value: '1938.3000', unrealised_pl: '363.3000', unrealised_pl_percent: '23.0667', day_change: '17.1000', day_change_percent: '0.8901' });
    expect(totals).toMatchObject({ realised_pl: '75.0000', market_value: '2560.3000', unpriced: 1 });
    // Before any stored close: listed, not failed.
    const early = (await get('/api/v1/portfolio/7/?as_of=2022-07-26')).json();
    expect(early.positions[1]).toMatchObject({ symbol: 'IBM', shares: 20, price: null, reason: 'no stored close in the 31 days up to 2022-07-26' });
  });

  it('when the client asks for CSV, then the positions come as CSV with empty fields for null', async () => {
    const { get } = await setup();
    const response = await get('/api/v1/portfolio/7/', { accept: 'text/csv' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.body.split('\n')).toEqual([
      'symbol,shares,side,average_cost,cost_basis,realised_pl,price,price_date,cache,reason,market_value,unrealised_pl,unrealised_pl_percent,day_change,day_change_percent,dividends,total_return,actions_reason',
      'AAPL,-2,short,60.0000,-120.0000,40.0000,160.0000,2022-07-29,MISS,,-320.0000,-200.0000,-166.6667,-9.0000,-2.8939,0.0000,-160.0000,',
      'IBM,15,long,105.0000,1575.0000,75.0000,130.7900,2022-07-29,MISS,,1961.8500,386.8500,24.5619,23.5500,1.2150,0.0000,461.8500,',
      'NOPE,3,long,7.0000,21.0000,0.0000,,,,"Symbol ""NOPE"" was not found.",,,,,,0.0000,,',
      '',
    ]);
  });

  it('when the value over time is asked, then one point per stored session, the unknown symbol aside, at the same cost', async () => {
    const { get, used } = await setup({ THROTTLE_USER: '10/day' });
    const response = await get('/api/v1/portfolio/7/history/?from=2022-07-27&to=2022-07-29');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({
      user_id: 7,
      from: '2022-07-27',
      to: '2022-07-29',
      points: [
        // IBM 20 (cost 2100) at 128.08, AAPL 4 (cost 200) at 150
        { date: '2022-07-27', market_value: '3161.6000', cost_basis: '2300.0000', unrealised_pl: '861.6000', dividends: '0.0000' },
        // IBM 15 (1575) at 129.22, AAPL 4 at 155.5
        { date: '2022-07-28', market_value: '2560.3000', cost_basis: '1775.0000', unrealised_pl: '785.3000', dividends: '0.0000' },
        // IBM 15 at 130.79, AAPL −2 (−120) at 160
        { date: '2022-07-29', market_value: '1641.8500', cost_basis: '1455.0000', unrealised_pl: '186.8500', dividends: '0.0000' },
      ],
      unpriced: [{ symbol: 'NOPE', reason: 'Symbol "NOPE" was not found.' }],
      applied_actions: [],
      actions_unavailable: [],
    });
    expect(await used()).toBe(4);
    // The default range is the last year: no stored session in it.
    expect((await get('/api/v1/portfolio/7/history/')).json().points).toEqual([]);
  });

  it('when a user has no trades, then 200 with no positions and zero totals', async () => {
    const { get } = await setup();
    const response = await get('/api/v1/portfolio/12345/');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({
      user_id: 12345,
      as_of: null,
      positions: [],
      totals: {
        cost_basis: '0.0000', market_value: '0.0000', realised_pl: '0.0000', unrealised_pl: '0.0000', unrealised_pl_percent: '0.0000', day_change: '0.0000', positions: 0, unpriced: 0,
        dividends: '0.0000', total_return: '0.0000',
      },
      applied_actions: [],
    });
  });

  it('when the input is invalid, then 400 names the field', async () => {
    const { get } = await setup();
    const cases: [string, string, string][] = [
      ['/api/v1/portfolio/abc/', 'user_id', 'user_id: must be a non-negative integer'],
      ['/api/v1/portfolio/-1/', 'user_id', 'user_id: must be a non-negative integer'],
      ['/api/v1/portfolio/99999999999999999/', 'user_id', 'user_id: must be a non-negative integer'],
      ['/api/v1/portfolio/7/?as_of=2022-02-30', 'as_of', 'as_of: must be a date as YYYY-MM-DD'],
      ['/api/v1/portfolio/7/history/?from=2022-07-29&to=2022-07-27', 'from', 'from: must not be after to'],
      ['/api/v1/portfolio/7/history/?from=2015-01-01&to=2022-07-27', 'from', 'from: the range may span at most 1827 days (5 years); it spans 2764'],
      ['/api/v1/portfolio/7/history/?to=yesterday', 'to', 'to: must be a date as YYYY-MM-DD'],
      // Trade timestamps are epoch milliseconds, never negative: no day before 1970 holds a trade.
      ['/api/v1/portfolio/7/?as_of=0000-01-01', 'as_of', 'as_of: must not be before 1970-01-01 (no trade is older)'],
      ['/api/v1/portfolio/7/history/?to=0000-06-01', 'to', 'to: must not be before 1970-01-01 (no trade is older)'],
      ['/api/v1/portfolio/7/history/?from=1969-12-31&to=1970-01-02', 'from', 'from: must not be before 1970-01-01 (no trade is older)'],
    ];
    for (const [url, field, detail] of cases) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toEqual({ detail, field });
    }
    // Without from, a year before to, but never before 1970.
    const early = await get('/api/v1/portfolio/7/history/?to=1970-03-01');
    expect(early.statusCode).toBe(200);
    expect(early.json()).toMatchObject({ from: '1970-01-01', to: '1970-03-01', points: [] });
    const future = await get('/api/v1/portfolio/7/?as_of=2999-01-01');
    expect(future.statusCode).toBe(400);
    expect(future.json().detail).toMatch(/^as_of: must not be after today \(\d{4}-\d{2}-\d{2}, UTC\)$/);
  });

  it('when no key is sent, then 401, and a wrong key is 401 too', async () => {
    const { service } = await setup();
    for (const url of ['/api/v1/portfolio/7/', '/api/v1/portfolio/7/history/']) {
      const none = await service.app.inject({ method: 'GET', url });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
      expect((await service.app.inject({ method: 'GET', url, headers: { 'x-api-key': 'wrong' } })).statusCode).toBe(401);
    }
  });

  it('when a user holds more symbols than are priced per request, then the first 100 are priced and the rest listed with why, at a cost of 100', async () => {
    const service = await startService(engine, { THROTTLE_USER: '1000/day' });
    // The sandbox's universe, priced, then tickers it does not know (404 each), in symbol order after them.
    const universe = UNIVERSE.map((ticker) => ticker.symbol);
    const unknown = Array.from({ length: 101 - universe.length }, (_, i) => `ZZ${String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26))}`);
    const symbols = [...universe, ...unknown];
    await Promise.all(symbols.map((symbol) => service.app.inject({ method: 'POST', url: '/trades', payload: { type: 'buy', user_id: 9, symbol, shares: 1, price: 1, timestamp: 1 } })));
    const key = await register(service.app);
    const response = await service.app.inject({ method: 'GET', url: '/api/v1/portfolio/9/', headers: { 'x-api-key': key } });
    expect(response.statusCode).toBe(200);
    const { positions, totals } = response.json();
    expect(positions.filter((p: { price: string | null }) => p.price !== null).map((p: { symbol: string }) => p.symbol)).toEqual([...universe].sort());
    const asked = positions.slice(universe.length, 100);
    expect(asked).toHaveLength(100 - universe.length);
    for (const position of asked) expect(position).toMatchObject({ price: null, reason: expect.stringMatching(/not found/) });
    expect(positions[100]).toMatchObject({ symbol: unknown.at(-1), price: null, reason: 'not priced: only the first 100 symbols (in symbol order) are priced per request' });
    expect(totals).toMatchObject({ positions: 101, unpriced: 101 - universe.length });
    expect(response.headers.ratelimit).toMatch(/^"user";r=900;t=\d+$/);
  });

  it('when a stored symbol is not a valid symbol, or a position is closed, then each is listed unpriced with why and costs nothing', async () => {
    const service = await startService(engine, { THROTTLE_USER: '10/day' });
    const trades = [
      { type: 'buy', symbol: 'IBM!', shares: 2, price: 5 },
      { type: 'buy', symbol: 'msft', shares: 3, price: 10 },
      { type: 'sell', symbol: 'MSFT', shares: 3, price: 14 },
      { type: 'buy', symbol: 'AAPL', shares: 1, price: 100 },
    ];
    // Bought after AAPL's last split: its shares stay as recorded.
    const at = Date.parse('2025-01-02T15:00:00Z');
    for (const [i, trade] of trades.entries()) await service.app.inject({ method: 'POST', url: '/trades', payload: { ...trade, user_id: 3, timestamp: at + i } });
    const key = await register(service.app);
    const response = await service.app.inject({ method: 'GET', url: '/api/v1/portfolio/3/', headers: { 'x-api-key': key } });
    const [aapl, invalid, msft] = response.json().positions;
    expect(aapl).toMatchObject({ symbol: 'AAPL', shares: 1, reason: null });
    expect(aapl.price).toMatch(/^\d+\.\d+$/);
    expect(invalid).toMatchObject({ symbol: 'IBM!', shares: 2, cost_basis: '10.0000', price: null, cache: null });
    expect(invalid.reason).toMatch(/^not a valid symbol \(symbol: must be 1 to 15 letters/);
    expect(msft).toStrictEqual({
      symbol: 'MSFT', shares: 0, side: 'flat', average_cost: '0.0000', cost_basis: '0.0000', realised_pl: '12.0000',
      price: null, price_date: null, cache: null, reason: 'flat: no shares held',
      market_value: null, unrealised_pl: null, unrealised_pl_percent: null, day_change: null, day_change_percent: null,
      dividends: '0.0000', total_return: '12.0000', actions_reason: null, // flat: its realised P/L is its whole return
    });
    expect(response.json().totals).toMatchObject({ positions: 3, unpriced: 1, realised_pl: '12.0000' });
    expect(response.headers.ratelimit).toMatch(/^"user";r=9;t=\d+$/); // AAPL alone
  });

  it('when a ledger is longer than one read, with many trades at one timestamp, then every trade counts once', async () => {
    const service = await startService(engine);
    const trades = [
      ...Array.from({ length: 1500 }, (_, i) => ({ type: 'buy', shares: 1, price: i % 2 === 0 ? 10 : 20, timestamp: 1_000 })),
      ...Array.from({ length: 600 }, () => ({ type: 'sell', shares: 1, price: 12, timestamp: 2_000 })),
    ];
    // Recorded sells first: in id order they would open a short at 12 that the buys cover (+1200, then a long
    // averaging 18.33); in time order they close 600 of 1500 averaging 15, at a loss of 3 each.
    for (const chunk of [trades.slice(1500), trades.slice(0, 1500)]) {
      const answers = await Promise.all(chunk.map((t) => service.app.inject({ method: 'POST', url: '/trades', payload: { ...t, user_id: 5, symbol: 'ZZZ!' } })));
      expect(answers.every((a) => a.statusCode === 201)).toBe(true);
    }
    const key = await register(service.app);
    const [position] = (await service.app.inject({ method: 'GET', url: '/api/v1/portfolio/5/', headers: { 'x-api-key': key } })).json().positions;
    expect(position).toMatchObject({ symbol: 'ZZZ!', shares: 900, side: 'long', average_cost: '15.0000', cost_basis: '13500.0000', realised_pl: '-1800.0000' });
  });
});
