import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService, type TestService } from '../support/service.js';
import { type Bar, type Behavior, IBM_BARS, providerEnv, startUpstream, type Upstream } from '../support/upstream.js';

const bar = (date: string, open: string, high: string, low: string, close: string): Bar => ({ date, open, high, low, close, volume: 1000 });

/** Apple around its 4-for-1 of 2020-08-31: closes near 500 before, near 130 after. */
const AAPL_BARS: Bar[] = [
  bar('2020-09-02', '137.5900', '137.9800', '127.0000', '131.4000'),
  bar('2020-09-01', '132.7600', '134.8000', '130.5300', '134.1800'),
  bar('2020-08-31', '127.5800', '131.0000', '126.0000', '129.0400'),
  bar('2020-08-28', '504.0500', '505.7700', '498.3100', '499.2300'),
  bar('2020-08-27', '508.5700', '509.9400', '495.3300', '500.0400'),
];
/** Its 7-for-1 of 2014 comes before every trade here: it must change nothing. */
const AAPL_SPLITS: Behavior = { kind: 'splits', splits: [{ date: '2014-06-09', newShares: 7, oldShares: 1 }, { date: '2020-08-31', newShares: 4, oldShares: 1 }] };
const AAPL_DIVIDENDS: Behavior = { kind: 'dividends', dividends: [{ exDate: '2020-08-07', amount: '0.82' }, { exDate: '2020-11-06', amount: '0.205' }] };

/** A 1-for-3 reverse split on 2023-05-15: Alpha Vantage writes its factor "0.3333". */
const RVRS_BARS: Bar[] = [
  bar('2023-05-16', '6.3500', '6.5000', '6.2000', '6.4000'),
  bar('2023-05-15', '6.1000', '6.4000', '6.0000', '6.3000'),
  bar('2023-05-12', '2.0000', '2.1000', '1.9500', '2.0500'),
];
const RVRS_SPLITS: Behavior = { kind: 'splits', splits: [{ date: '2023-05-15', newShares: 1, oldShares: 3 }] };

/** A dividend of 0.485 going ex on 2024-03-14, which a short pays. */
const KO_BARS: Bar[] = [
  bar('2024-03-15', '59.9000', '60.2000', '59.5000', '60.0000'),
  bar('2024-03-14', '59.8000', '60.0000', '59.3000', '59.5000'),
  bar('2024-03-13', '60.4000', '60.6000', '60.0000', '60.3000'),
];
const KO_DIVIDENDS: Behavior = { kind: 'dividends', dividends: [{ exDate: '2024-03-14', amount: '0.485' }] };

/** A 2-for-1 on 2020-08-31 with no close stored that day (a halt): its last close before is 100, pre-split. */
const HALT_BARS: Bar[] = [
  bar('2020-09-01', '50.0000', '52.0000', '49.0000', '51.0000'),
  bar('2020-08-28', '99.0000', '101.0000', '98.0000', '100.0000'),
  bar('2020-08-27', '99.0000', '101.0000', '98.0000', '100.0000'),
];
const HALT_SPLITS: Behavior = { kind: 'splits', splits: [{ date: '2020-08-31', newShares: 2, oldShares: 1 }] };

const noon = (day: string) => Date.parse(`${day}T12:00:00Z`);
const NONE: Behavior = { kind: 'splits', splits: [] };
const NO_DIVIDENDS: Behavior = { kind: 'dividends', dividends: [] };

function serve(upstream: Upstream, symbol: string, bars: Bar[], splits: Behavior = NONE, dividends: Behavior = NO_DIVIDENDS) {
  upstream.set('alphavantage', symbol, { kind: 'bars', bars });
  upstream.setFor('alphavantage', 'splits', symbol, splits);
  upstream.setFor('alphavantage', 'dividends', symbol, dividends);
}

async function recordTrades(service: TestService, userId: number, trades: [day: string, type: string, symbol: string, shares: number, price: number][]) {
  for (const [day, type, symbol, shares, price] of trades) {
    const response = await service.app.inject({ method: 'POST', url: '/trades', payload: { type, user_id: userId, symbol, shares, price, timestamp: noon(day) } });
    expect(response.statusCode).toBe(201);
  }
}

describe.each(testEngines())('portfolios through splits and dividends on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    const upstream = await startUpstream();
    serve(upstream, 'AAPL', AAPL_BARS, AAPL_SPLITS, AAPL_DIVIDENDS);
    serve(upstream, 'RVRS', RVRS_BARS, RVRS_SPLITS);
    serve(upstream, 'KO', KO_BARS, NONE, KO_DIVIDENDS);
    serve(upstream, 'HALT', HALT_BARS, HALT_SPLITS);
    // Alpha Vantage alone. A quota whose fair share (a fifth) holds each symbol's bars and first splits and
    // dividends (three lookups a symbol); the test of a spent fair share sets the production 25.
    const service = await startService(engine, { ...providerEnv(upstream, ['alphavantage']), ALPHAVANTAGE_DAILY_LIMIT: '100', ...env });
    const key = await register(service.app);
    const get = (url: string, headers: Record<string, string> = {}) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key, ...headers } });
    const used = async () => (await get('/api/v1/me/')).json().usage.used as number;
    const actionCalls = () => ({ splits: [...upstream.capabilityCalls.alphavantage.splits].sort(), dividends: [...upstream.capabilityCalls.alphavantage.dividends].sort() });
    return { upstream, service, get, used, actionCalls };
  }

  /**
   * User 7, by hand:
   * AAPL buy 10 @400 on 2020-08-03 (cost 4000). Ex 2020-08-07, 0.82 on 10: +8.20. The 4-for-1 of 2020-08-31 makes
   *      40 at an average of 100. Sell 30 @130 on 2020-09-02: realises 30 × (130 − 100) = 900, leaves 10 costing 1000.
   *      Ex 2020-11-06, 0.205 on 10: +2.05 (after the last close, before today: paid). Dividends 10.25.
   *      At 131.40 (134.18 the day before): 1314.00, unrealised 314.00 (31.4%); the day 10 × −2.78 = −27.80, of 1341.80
   *      −2.0718%. Total return 314 + 900 + 10.25 = 1224.25.
   * RVRS buy 10 @2 on 2023-05-01 (cost 20). 1-for-3 on 2023-05-15, factor 0.3333: 10 × 0.3333 = 3.333 shares, kept
   *      (no cash in lieu), average 20 / 3.333 = 6.00060006… At 6.40 (6.30 the day before): 3.333 × 6.40 = 21.3312,
   *      unrealised 1.3312 (6.656%); the day 3.333 × 0.10 = 0.3333, of 3.333 × 6.30 = 20.9979: 1.5873%.
   * KO   sell 4 @60 on 2024-01-02: short 4, cost basis −240. Ex 2024-03-14, 0.485 on −4: the short pays 1.94.
   *      At 60.00 (59.50 the day before): −240.00, unrealised 0; the day −4 × 0.50 = −2.00, of 238: −0.8403%.
   *      Total return 0 − 1.94.
   * Totals: cost basis 1000 − 240 + 20 = 780; value 1314 − 240 + 21.3312 = 1095.3312; unrealised 315.3312, of
   *      1000 + 240 + 20 = 1260: 25.0263%; the day −27.80 − 2.00 + 0.3333 = −29.4667; dividends 10.25 − 1.94 = 8.31;
   *      total return 315.3312 + 900 + 8.31 = 1223.6412.
   */
  const USER_7: Parameters<typeof recordTrades>[2] = [
    ['2020-08-03', 'buy', 'AAPL', 10, 400],
    ['2020-09-02', 'sell', 'AAPL', 30, 130],
    ['2023-05-01', 'buy', 'RVRS', 10, 2],
    ['2024-01-02', 'sell', 'KO', 4, 60],
  ];

  it('when positions went through a forward split, a reverse split and dividends, long and short, then every figure is the hand-computed one and the answer names what it applied', async () => {
    const { service, get, used, actionCalls } = await setup();
    await recordTrades(service, 7, USER_7);
    const response = await get('/api/v1/portfolio/7/');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({
      user_id: 7,
      as_of: null,
      positions: [
        {
          symbol: 'AAPL', shares: 10, side: 'long', average_cost: '100.0000', cost_basis: '1000.0000', realised_pl: '900.0000',
          price: '131.4000', price_date: '2020-09-02', cache: 'MISS', reason: null,
          market_value: '1314.0000', unrealised_pl: '314.0000', unrealised_pl_percent: '31.4000', day_change: '-27.8000', day_change_percent: '-2.0718',
          dividends: '10.2500', total_return: '1224.2500', actions_reason: null,
        },
        {
          symbol: 'KO', shares: -4, side: 'short', average_cost: '60.0000', cost_basis: '-240.0000', realised_pl: '0.0000',
          price: '60.0000', price_date: '2024-03-15', cache: 'MISS', reason: null,
          market_value: '-240.0000', unrealised_pl: '0.0000', unrealised_pl_percent: '0.0000', day_change: '-2.0000', day_change_percent: '-0.8403',
          dividends: '-1.9400', total_return: '-1.9400', actions_reason: null,
        },
        {
          symbol: 'RVRS', shares: 3.333, side: 'long', average_cost: '6.0006', cost_basis: '20.0000', realised_pl: '0.0000',
          price: '6.4000', price_date: '2023-05-16', cache: 'MISS', reason: null,
          market_value: '21.3312', unrealised_pl: '1.3312', unrealised_pl_percent: '6.6560', day_change: '0.3333', day_change_percent: '1.5873',
          dividends: '0.0000', total_return: '1.3312', actions_reason: null,
        },
      ],
      totals: {
        cost_basis: '780.0000', market_value: '1095.3312', realised_pl: '900.0000', unrealised_pl: '315.3312', unrealised_pl_percent: '25.0263',
        day_change: '-29.4667', positions: 3, unpriced: 0, dividends: '8.3100', total_return: '1223.6412',
      },
      applied_actions: [
        { symbol: 'AAPL', type: 'dividend', ex_date: '2020-08-07', amount: '0.82', shares: 10, cash: '8.2000' },
        { symbol: 'AAPL', type: 'split', date: '2020-08-31', factor: '4', shares_before: 10, shares_after: 40 },
        { symbol: 'AAPL', type: 'dividend', ex_date: '2020-11-06', amount: '0.205', shares: 10, cash: '2.0500' },
        { symbol: 'RVRS', type: 'split', date: '2023-05-15', factor: '0.3333', shares_before: 10, shares_after: 3.333 },
        { symbol: 'KO', type: 'dividend', ex_date: '2024-03-14', amount: '0.485', shares: -4, cash: '-1.9400' },
      ],
    });
    // Each symbol's splits and dividends were asked once (as adjusted history would), and cost nothing more of the allowance.
    expect(actionCalls()).toEqual({ splits: ['AAPL', 'KO', 'RVRS'], dividends: ['AAPL', 'KO', 'RVRS'] });
    expect(await used()).toBe(4); // one per symbol priced, as before, and this /me/
    const again = await get('/api/v1/portfolio/7/', { accept: 'text/csv' });
    expect(again.headers['x-cache']).toBe('HIT');
    expect(actionCalls()).toEqual({ splits: ['AAPL', 'KO', 'RVRS'], dividends: ['AAPL', 'KO', 'RVRS'] }); // stored: not asked again
    expect(again.body.split('\n').slice(1)).toEqual([
      'AAPL,10,long,100.0000,1000.0000,900.0000,131.4000,2020-09-02,HIT,,1314.0000,314.0000,31.4000,-27.8000,-2.0718,10.2500,1224.2500,',
      'KO,-4,short,60.0000,-240.0000,0.0000,60.0000,2024-03-15,HIT,,-240.0000,0.0000,0.0000,-2.0000,-0.8403,-1.9400,-1.9400,',
      'RVRS,3.333,long,6.0006,20.0000,0.0000,6.4000,2023-05-16,HIT,,21.3312,1.3312,6.6560,0.3333,1.5873,0.0000,1.3312,',
      '',
    ]);
  });

  it("when a portfolio is asked as of the days around a split, then the shares follow the split and the value has no cliff", async () => {
    const { service, get } = await setup();
    await recordTrades(service, 7, USER_7);
    // 2020-08-28: 10 AAPL at 499.23 = 4992.30 (cost 4000, the 0.82 dividend paid: 8.20).
    const before = (await get('/api/v1/portfolio/7/?as_of=2020-08-28')).json();
    expect(before.positions).toStrictEqual([expect.objectContaining({ symbol: 'AAPL', shares: 10, average_cost: '400.0000', market_value: '4992.3000', dividends: '8.2000' })]);
    expect(before.applied_actions).toEqual([{ symbol: 'AAPL', type: 'dividend', ex_date: '2020-08-07', amount: '0.82', shares: 10, cash: '8.2000' }]);
    // 2020-08-31: 40 at 129.04 = 5161.60. The day change's base, 499.23 before the split, is 124.8075 after it:
    // 40 × (129.04 − 124.8075) = 169.30, of 4992.30: 3.3912% — not 40 × (129.04 − 499.23).
    const after = (await get('/api/v1/portfolio/7/?as_of=2020-08-31')).json();
    expect(after.positions).toStrictEqual([
      expect.objectContaining({ symbol: 'AAPL', shares: 40, average_cost: '100.0000', cost_basis: '4000.0000', market_value: '5161.6000', day_change: '169.3000', day_change_percent: '3.3912' }),
    ]);
    expect(after.applied_actions.map((a: { type: string }) => a.type)).toEqual(['dividend', 'split']);
  });

  it('when the value over time crosses a split, then each day holds the shares of that day and the series has no cliff', async () => {
    const { service, get, used } = await setup();
    await recordTrades(service, 8, [['2020-08-03', 'buy', 'AAPL', 10, 400]]);
    const response = await get('/api/v1/portfolio/8/history/?from=2020-08-27&to=2020-09-02');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({
      user_id: 8,
      from: '2020-08-27',
      to: '2020-09-02',
      points: [
        // 10 at 500.04 and 499.23 (cost 4000); the 0.82 paid on 2020-08-07: 8.20 since.
        { date: '2020-08-27', market_value: '5000.4000', cost_basis: '4000.0000', unrealised_pl: '1000.4000', dividends: '8.2000' },
        { date: '2020-08-28', market_value: '4992.3000', cost_basis: '4000.0000', unrealised_pl: '992.3000', dividends: '8.2000' },
        // 40 from the split's day on: 40 × 129.04, not 10 × 129.04 = 1290.40.
        { date: '2020-08-31', market_value: '5161.6000', cost_basis: '4000.0000', unrealised_pl: '1161.6000', dividends: '8.2000' },
        { date: '2020-09-01', market_value: '5367.2000', cost_basis: '4000.0000', unrealised_pl: '1367.2000', dividends: '8.2000' },
        { date: '2020-09-02', market_value: '5256.0000', cost_basis: '4000.0000', unrealised_pl: '1256.0000', dividends: '8.2000' },
      ],
      unpriced: [],
      applied_actions: [{ symbol: 'AAPL', type: 'split', date: '2020-08-31', factor: '4', shares_before: 10, shares_after: 40 }], // in the range only
      actions_unavailable: [],
    });
    expect(await used()).toBe(2); // one symbol priced, and this /me/
  });

  it("when a symbol has no close stored on its split's day, then that day values its last close in split units", async () => {
    const { service, get } = await setup();
    // 1 AAPL (cost 500) and 10 HALT (cost 900). AAPL's 0.82 on 2020-08-07: 0.82.
    await recordTrades(service, 9, [['2020-08-03', 'buy', 'AAPL', 1, 500], ['2020-08-03', 'buy', 'HALT', 10, 90]]);
    const { points } = (await get('/api/v1/portfolio/9/history/?from=2020-08-28&to=2020-09-01')).json();
    expect(points).toStrictEqual([
      // 499.23 + 10 × 100
      { date: '2020-08-28', market_value: '1499.2300', cost_basis: '1400.0000', unrealised_pl: '99.2300', dividends: '0.8200' },
      // 4 × 129.04 = 516.16; HALT has no close that day: 100 (2020-08-28) ÷ 2 = 50, × 20 = 1000 (not 20 × 100).
      { date: '2020-08-31', market_value: '1516.1600', cost_basis: '1400.0000', unrealised_pl: '116.1600', dividends: '0.8200' },
      // 4 × 134.18 = 536.72; 20 × 51 = 1020
      { date: '2020-09-01', market_value: '1556.7200', cost_basis: '1400.0000', unrealised_pl: '156.7200', dividends: '0.8200' },
    ]);
  });

  it('when a position was closed before its split, or bought after it, then the split changes nothing', async () => {
    const { service, get } = await setup();
    await recordTrades(service, 10, [
      ['2020-08-03', 'buy', 'AAPL', 10, 400],
      ['2020-08-04', 'sell', 'AAPL', 10, 410], // flat before the ex-date and the split: 100 realised, nothing paid
      ['2020-09-01', 'buy', 'AAPL', 5, 130], // after the split: in split units already
    ]);
    const { positions, applied_actions } = (await get('/api/v1/portfolio/10/')).json();
    // 5 at 130 (cost 650), 100 realised; at 131.40: 657.00, unrealised 7.00; total return 7 + 100 + 5 × 0.205 (2020-11-06) = 108.025.
    expect(positions).toStrictEqual([
      expect.objectContaining({ symbol: 'AAPL', shares: 5, average_cost: '130.0000', cost_basis: '650.0000', realised_pl: '100.0000', market_value: '657.0000', dividends: '1.0250', total_return: '108.0250' }),
    ]);
    expect(applied_actions).toEqual([{ symbol: 'AAPL', type: 'dividend', ex_date: '2020-11-06', amount: '0.205', shares: 5, cash: '1.0250' }]);
  });

  it("when a client's fair share cannot hold a symbol's first splits and dividends, then the portfolio applies none, says why, and applies them once they are stored", async () => {
    const { upstream, service, get } = await setup({ ALPHAVANTAGE_DAILY_LIMIT: '25' });
    for (const symbol of ['AAA', 'BBB', 'CCC', 'DDD']) upstream.set('alphavantage', symbol, { kind: 'bars', bars: IBM_BARS });
    // Four lookups of the client's five (a fifth of 25: 0 < 5, 1 < 4.8, … 4 < 4.2); AAPL's bars are the fifth.
    for (const symbol of ['AAA', 'BBB', 'CCC', 'DDD']) expect((await get(`/api/v1/symbol/${symbol}/`)).statusCode).toBe(200);
    await recordTrades(service, 11, [['2020-08-03', 'buy', 'AAPL', 10, 400]]);
    const refused = await get('/api/v1/portfolio/11/');
    expect(refused.statusCode).toBe(200);
    const [aapl] = refused.json().positions;
    // The stored actions (none) apply: 10 shares at 131.40, as before this change, and the answer says why.
    expect(aapl).toMatchObject({ symbol: 'AAPL', shares: 10, average_cost: '400.0000', market_value: '1314.0000', dividends: '0.0000', price: '131.4000' });
    expect(aapl.actions_reason).toMatch(/^Your share of today's upstream lookups for symbols not yet stored is used up; stored symbols are still served\. Expected available in \d+ seconds\.$/);
    expect(refused.json().applied_actions).toEqual([]);
    expect(upstream.capabilityCalls.alphavantage.splits).toEqual([]); // refused before any call
    // Another client, from another address, asks AAPL's actions: now they are stored, and the first client's portfolio applies them.
    const other = await register(service.app, 'other@example.com');
    const asked = await service.app.inject({ method: 'GET', url: '/api/v1/symbol/AAPL/actions/', remoteAddress: '127.0.2.1', headers: { 'x-api-key': other } });
    expect(asked.statusCode).toBe(200);
    const applied = (await get('/api/v1/portfolio/11/')).json();
    // 40 at 131.40; 0.82 on 10 and 0.205 on 40: 8.20 + 8.20.
    expect(applied.positions[0]).toMatchObject({ shares: 40, average_cost: '100.0000', market_value: '5256.0000', dividends: '16.4000', actions_reason: null });
  });
});
