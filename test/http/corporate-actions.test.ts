import { describe, expect, it } from 'vitest';
import { createImportTransaction } from '../../src/adapters/db/import-transaction.js';
import { importPrices } from '../../src/app/market-data/import-prices.js';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { IBM_BARS, providerEnv, startUpstream } from '../support/upstream.js';

/**
 * The seed's IBM with a 2-for-1 split on its last day and a dividend of 1.2808 going ex the day before:
 * the dividend's factor is 1 − 1.2808 / 128.0800 (the close before it) = 0.99; the split halves earlier prices.
 */
const ADJUSTED_IBM = [
  { date: '2022-07-27', open: '63.374850', high: '63.859950', low: '63.018450', close: '63.399600', volume: 7089432 },
  { date: '2022-07-28', open: '64.100000', high: '64.775000', low: '63.830000', close: '64.610000', volume: 7790266 },
  { date: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: 4236283 },
];

describe.each(testEngines())('splits, dividends and adjusted history on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    let now = new Date('2022-08-01T12:00:00Z');
    const upstream = await startUpstream();
    const service = await startService(engine, { ...providerEnv(upstream), ...env }, undefined, { now: () => now });
    const key = await register(service.app);
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    upstream.setFor('alphavantage', 'splits', 'IBM', { kind: 'splits', splits: [{ date: '2022-07-29', newShares: 2, oldShares: 1 }] });
    upstream.setFor('alphavantage', 'dividends', 'IBM', { kind: 'dividends', dividends: [{ exDate: '2022-07-28', amount: '1.2808' }] });
    const get = (url: string, headers: Record<string, string> = {}) =>
      service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key, ...headers } });
    return { upstream, service, get, later: (ms: number) => (now = new Date(now.getTime() + ms)) };
  }

  it('when adjusted=true, then prices are adjusted for the split and the dividend, volume for the split, in decimal', async () => {
    const { get } = await setup();
    const response = await get('/api/v1/symbol/IBM/history/?adjusted=true');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({ symbol: 'IBM', source: 'alphavantage', adjusted: true, bars: ADJUSTED_IBM });
    // As traded by default, and with adjusted=false.
    for (const query of ['', '?adjusted=false']) {
      expect((await get(`/api/v1/symbol/IBM/history/${query}`)).json().bars).toStrictEqual([...IBM_BARS].reverse());
    }
    // The quote stays as traded (the original contract).
    expect((await get('/api/v1/symbol/IBM/')).json().close_value).toBe('130.7900');
  });

  it('when a range is asked adjusted, then actions after the range still adjust it; CSV too', async () => {
    const { get } = await setup();
    const response = await get('/api/v1/symbol/IBM/history/?adjusted=true&from=2022-07-27&to=2022-07-27');
    expect(response.json().bars).toStrictEqual([ADJUSTED_IBM[0]]);
    const csv = await get('/api/v1/symbol/IBM/history/?adjusted=true&to=2022-07-28', { accept: 'text/csv' });
    expect(csv.body).toBe('date,open,high,low,close,volume\n2022-07-27,63.374850,63.859950,63.018450,63.399600,7089432\n2022-07-28,64.100000,64.775000,63.830000,64.610000,7790266\n');
  });

  it('when the actions are listed, then splits and dividends oldest first; asked again the same day, no upstream call', async () => {
    const { upstream, get } = await setup();
    const response = await get('/api/v1/symbol/ibm/actions/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.json()).toStrictEqual({
      symbol: 'IBM',
      splits: [{ date: '2022-07-29', factor: '2' }],
      dividends: [{ ex_date: '2022-07-28', amount: '1.2808' }],
    });
    expect((await get('/api/v1/symbol/IBM/actions/')).headers['x-cache']).toBe('HIT');
    await get('/api/v1/symbol/IBM/history/?adjusted=true');
    expect(upstream.capabilityCalls.alphavantage).toMatchObject({ splits: ['IBM'], dividends: ['IBM'] });
  });

  it('when the next session has closed, then the actions are asked again', async () => {
    const { upstream, get, later } = await setup();
    await get('/api/v1/symbol/IBM/actions/');
    later(86_400_000); // Tuesday: Monday's session is final
    await get('/api/v1/symbol/IBM/actions/');
    expect(upstream.capabilityCalls.alphavantage.splits).toEqual(['IBM', 'IBM']);
  });

  it('when the symbol is unknown or invalid, then 404 or 400, and no actions are asked upstream', async () => {
    const { upstream, get } = await setup();
    upstream.set('alphavantage', 'NOPE', { kind: 'unknown' });
    upstream.set('twelvedata', 'NOPE', { kind: 'unknown' });
    expect((await get('/api/v1/symbol/NOPE/actions/')).statusCode).toBe(404);
    expect((await get('/api/v1/symbol/NOPE/history/?adjusted=true')).statusCode).toBe(404);
    expect((await get('/api/v1/symbol/N%20PE/actions/')).statusCode).toBe(400);
    expect(upstream.capabilityCalls.alphavantage.splits).toEqual([]);
  });

  it('when adjusted is neither true nor false, then 400 names it', async () => {
    const { get } = await setup();
    const response = await get('/api/v1/symbol/IBM/history/?adjusted=yes');
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toMatch(/adjusted/);
  });

  it('when one vendor has no actions to give (a plan restriction), then the next one answers', async () => {
    const { upstream, get } = await setup();
    upstream.setFor('alphavantage', 'splits', 'IBM', { kind: 'premium' });
    upstream.setFor('twelvedata', 'splits', 'IBM', { kind: 'splits', splits: [{ date: '2022-07-29', newShares: 2, oldShares: 1 }] });
    expect((await get('/api/v1/symbol/IBM/actions/')).json().splits).toStrictEqual([{ date: '2022-07-29', factor: '2' }]);
  });

  it('when upstream fails for actions and none were ever fetched, then the adjusted history is refused, not served unadjusted', async () => {
    const { upstream, get } = await setup();
    for (const vendor of ['alphavantage', 'twelvedata'] as const) upstream.setFor(vendor, 'dividends', 'IBM', { kind: 'http_500' });
    const response = await get('/api/v1/symbol/IBM/history/?adjusted=true');
    expect(response.statusCode).toBe(502);
    expect(response.json().detail).toMatch(/unavailable/);
  });

  it('when actions were fetched and upstream then fails, then the stored ones are served, STALE', async () => {
    const { upstream, get, later } = await setup();
    await get('/api/v1/symbol/IBM/actions/');
    for (const vendor of ['alphavantage', 'twelvedata'] as const) upstream.setFor(vendor, 'splits', 'IBM', { kind: 'http_500' });
    later(86_400_000);
    const response = await get('/api/v1/symbol/IBM/history/?adjusted=true');
    expect(response.headers['x-cache']).toBe('STALE');
    expect(response.json().bars.slice(0, 2)).toStrictEqual(ADJUSTED_IBM.slice(0, 2));
  });

  it('when a vendor gives a split factor past 10,000-for-1, then that vendor counts as unavailable and the next one answers', async () => {
    const { upstream, get } = await setup();
    const huge = { date: '2022-07-29', newShares: 100_000_000, oldShares: 1 };
    upstream.setFor('alphavantage', 'splits', 'IBM', { kind: 'splits', splits: [huge] });
    upstream.setFor('twelvedata', 'splits', 'IBM', { kind: 'splits', splits: [{ date: '2022-07-29', newShares: 2, oldShares: 1 }] });
    const response = await get('/api/v1/symbol/IBM/history/?adjusted=true');
    expect(response.statusCode).toBe(200);
    expect(response.json().bars).toStrictEqual(ADJUSTED_IBM);
  });

  it('when every vendor gives splits that multiply past the bounds, then none is stored and adjusted history is 502, never a 500 or Infinity', async () => {
    const { upstream, get } = await setup();
    // Each 10,000-for-1 is allowed alone; together they multiply to 10^48.
    const splits = Array.from({ length: 12 }, (_, i) => ({ date: `20${10 + i}-01-03`, newShares: 10_000, oldShares: 1 }));
    for (const vendor of ['alphavantage', 'twelvedata'] as const) upstream.setFor(vendor, 'splits', 'IBM', { kind: 'splits', splits });
    for (const accept of ['application/json', 'text/csv']) {
      const response = await get('/api/v1/symbol/IBM/history/?adjusted=true', { accept });
      expect(response.statusCode).toBe(502);
      expect(response.json().detail).toMatch(/the splits from 2020-01-03 on multiply to 100000000, outside 0\.000000001 to 10000000/);
    }
    expect((await get('/api/v1/symbol/IBM/actions/')).statusCode).toBe(502);
  });

  it('when the store holds splits past the bounds (written before them), then adjusted history is 502 and names the way out', async () => {
    const { service, get } = await setup();
    await get('/api/v1/symbol/IBM/actions/'); // fetched and stored: no refresh is due until the next close
    const factor = '99999999999999999999999999999999';
    const rows = Array.from({ length: 12 }, (_, i) => ({ symbol: 'IBM', date: `19${70 + i}-01-05`, factor, source: 'import', fetched_at: 1 }));
    await service.db.insertInto('splits').values(rows).execute();
    for (const accept of ['application/json', 'text/csv']) {
      const response = await get('/api/v1/symbol/IBM/history/?adjusted=true', { accept });
      expect(response.statusCode).toBe(502);
      expect(response.json().detail).toMatch(/^The stored splits of IBM cannot adjust its history: .*delete-prices/);
    }
    expect((await get('/api/v1/symbol/IBM/history/')).statusCode).toBe(200); // as traded, still served
  });
});

describe.each(testEngines())('imported actions in the sandbox on %s', (engine) => {
  it('when bars and splits were imported, then the sandbox serves them adjusted, with the sandbox adding none', async () => {
    const service = await startService(engine);
    const key = await register(service.app);
    await importPrices(createImportTransaction(service.db, { sandboxSource: 'sandbox', realProviders: false }), 'IBM', {
      bars: IBM_BARS,
      splits: [{ date: '2022-07-29', factor: '2' }],
      dividends: [{ exDate: '2022-07-28', amount: '1.2808' }],
    });
    const get = (url: string) => service.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    expect((await get('/api/v1/symbol/IBM/history/?adjusted=true')).json().bars).toStrictEqual(ADJUSTED_IBM);
    expect((await get('/api/v1/symbol/IBM/actions/')).json().splits).toStrictEqual([{ date: '2022-07-29', factor: '2' }]);
  });
});
