import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { register } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startService } from '../support/service.js';
import { type Bar, providerEnv, startUpstream } from '../support/upstream.js';

/** 300 fixed bars, oldest first, and TA-Lib 0.4.0's outputs over them (test/fixtures/indicators/README.md). */
const BARS = JSON.parse(readFileSync(new URL('../fixtures/indicators/bars.json', import.meta.url), 'utf8')) as Bar[];
const REFERENCE = JSON.parse(readFileSync(new URL('../fixtures/indicators/reference.json', import.meta.url), 'utf8')) as {
  function: string;
  parameters: Record<string, string>;
  begin: number;
  outputs: Record<string, number[]>;
}[];

const fixed = (value: number) => {
  const text = value.toFixed(4);
  return text === '-0.0000' ? '0.0000' : text;
};

/** TA-Lib's values of one reference case as the native answer's `values`: oldest first, fields as named. */
function values(name: string, parameters: Record<string, string>, fields: string[]): Record<string, string>[] {
  const reference = REFERENCE.find((c) => c.function === name && JSON.stringify(c.parameters) === JSON.stringify(parameters))!;
  const lines = Object.values(reference.outputs);
  return lines[0]!.map((_, i) => ({ date: BARS[reference.begin + i]!.date, ...Object.fromEntries(fields.map((field, k) => [field, fixed(lines[k]![i]!)])) }));
}

describe.each(testEngines())('GET /api/v1/symbol/{symbol}/indicators/{name}/ on %s', (engine) => {
  async function setup() {
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream));
    const key = await register(service.app);
    upstream.set('alphavantage', 'FIX', { kind: 'unknown' });
    upstream.set('twelvedata', 'FIX', { kind: 'bars', bars: [...BARS].reverse() });
    upstream.set('alphavantage', 'NOPE', { kind: 'unknown' });
    upstream.set('twelvedata', 'NOPE', { kind: 'unknown' });
    const get = (path: string, headers: Record<string, string> = {}) =>
      service.app.inject({ method: 'GET', url: `/api/v1/symbol/${path}`, headers: { 'x-api-key': key, ...headers } });
    return { upstream, service, get };
  }

  it("when an indicator is asked, then its parameters with defaults filled in and TA-Lib's values, oldest first, with X-Cache", async () => {
    const { upstream, get } = await setup();
    const response = await get('FIX/indicators/sma/?time_period=20&series_type=close');
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.json()).toStrictEqual({
      symbol: 'FIX',
      indicator: 'SMA',
      interval: '1day',
      parameters: { time_period: 20, series_type: 'close' },
      values: values('SMA', { time_period: '20', series_type: 'close' }, ['sma']),
    });
    const macd = await get('FIX/indicators/MACD/?series_type=close');
    expect(macd.headers['x-cache']).toBe('HIT');
    expect(macd.json()).toMatchObject({ parameters: { series_type: 'close', fastperiod: 12, slowperiod: 26, signalperiod: 9 } });
    expect(macd.json().values).toStrictEqual(values('MACD', { series_type: 'close', fastperiod: '12', slowperiod: '26', signalperiod: '9' }, ['macd', 'macd_hist', 'macd_signal']));
    const bbands = await get('FIX/indicators/bbands/?time_period=20&series_type=close');
    expect(bbands.json().values).toStrictEqual(
      values('BBANDS', { time_period: '20', series_type: 'close', nbdevup: '2', nbdevdn: '2', matype: '0' }, ['upper_band', 'lower_band', 'middle_band']),
    );
    expect(upstream.calls.twelvedata).toEqual(['FIX']);
  });

  it('when from and to are given, then only their values, as computed over every stored bar', async () => {
    const { get } = await setup();
    const all = values('RSI', { time_period: '20', series_type: 'close' }, ['rsi']);
    const response = await get('FIX/indicators/rsi/?time_period=20&series_type=close&from=2023-06-01&to=2023-06-30');
    expect(response.json().values).toStrictEqual(all.filter((row) => row.date! >= '2023-06-01' && row.date! <= '2023-06-30'));
    expect(response.json().values).toHaveLength(22);
  });

  it('when CSV is preferred, then `date` and the output fields, oldest first, LF-ended', async () => {
    const { get } = await setup();
    const response = await get('FIX/indicators/aroon/?time_period=14&to=2023-01-24', { accept: 'text/csv' });
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const expected = values('AROON', { time_period: '14' }, ['aroon_down', 'aroon_up']).filter((row) => row.date! <= '2023-01-24');
    expect(response.body).toBe(['date,aroon_down,aroon_up', ...expected.map((row) => `${row.date},${row.aroon_down},${row.aroon_up}`)].map((line) => `${line}\n`).join(''));
  });

  it('when interval=1week is asked, then the values are dated by the weeks\' last sessions', async () => {
    const { get } = await setup();
    const body = (await get('FIX/indicators/OBV/?interval=1week')).json();
    expect(body.interval).toBe('1week');
    const lastOfWeeks = new Set<string>();
    for (let i = 0; i < BARS.length; i++) {
      const next = BARS[i + 1];
      const day = new Date(`${BARS[i]!.date}T00:00:00Z`).getUTCDay();
      if (!next || new Date(`${next.date}T00:00:00Z`).getUTCDay() <= day) lastOfWeeks.add(BARS[i]!.date);
    }
    expect(body.values.map((row: { date: string }) => row.date)).toEqual([...lastOfWeeks]);
  });

  it.each([
    ['FIX/indicators/sma/?series_type=close', { detail: 'time_period: is required', field: 'time_period' }],
    ['FIX/indicators/sma/?time_period=1&series_type=close', { detail: 'time_period: must be an integer from 2 to 100000', field: 'time_period' }],
    ['FIX/indicators/sma/?time_period=10&series_type=volume', { detail: 'series_type: must be one of close, open, high, low', field: 'series_type' }],
    ['FIX/indicators/sma/?time_period=10&series_type=close&from=2023-02-30', { detail: 'from: must be a date as YYYY-MM-DD', field: 'from' }],
    ['FIX/indicators/sma/?time_period=10&series_type=close&from=2023-03-01&to=2023-02-01', { detail: 'from: must not be after to', field: 'from' }],
    ['IB%20M/indicators/sma/?time_period=10&series_type=close', { field: 'symbol' }],
  ])('when %s is asked, then 400 naming the field, and nothing is looked up', async (path, body) => {
    const { upstream, get } = await setup();
    const response = await get(path);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject(body);
    expect(upstream.calls.twelvedata).toEqual([]);
  });

  it('when interval is not one of 1day, 1week, 1month, then 400 naming it', async () => {
    const { get } = await setup();
    const response = await get('FIX/indicators/sma/?time_period=10&series_type=close&interval=daily');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ field: 'interval' });
  });

  it('when the indicator or the symbol is unknown, then 404 with detail', async () => {
    const { get } = await setup();
    const indicator = await get('FIX/indicators/mama/?series_type=close');
    expect(indicator.statusCode).toBe(404);
    expect(indicator.json()).toStrictEqual({ detail: 'Indicator "mama" is not served.' });
    const symbol = await get('NOPE/indicators/atr/?time_period=14');
    expect(symbol.statusCode).toBe(404);
    expect(symbol.json()).toStrictEqual({ detail: 'Symbol "NOPE" was not found.' });
  });

  it('when no key is sent, then 401, as on every /api/v1/symbol route', async () => {
    const { service } = await setup();
    const response = await service.app.inject({ method: 'GET', url: '/api/v1/symbol/FIX/indicators/sma/?time_period=10&series_type=close' });
    expect(response.statusCode).toBe(401);
  });

  it('when the OpenAPI document is built, then it lists the route with its parameters and answers', async () => {
    const { service } = await setup();
    const paths = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json().paths;
    const operation = paths['/api/v1/symbol/{symbol}/indicators/{name}']?.get;
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(operation.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['symbol', 'name', 'interval', 'time_period', 'series_type', 'from', 'to']));
    expect(operation.security).toBeDefined();
  });
});
