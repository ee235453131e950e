import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import alpha from 'alphavantage';
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
const LAST_DATE = BARS[BARS.length - 1]!.date;

/** Alpha Vantage's 4 decimals, written here apart from the service's own writer. */
const fixed = (value: number) => {
  const text = value.toFixed(4);
  return text === '-0.0000' ? '0.0000' : text;
};

/** TA-Lib's values of one reference case, as Alpha Vantage's "Technical Analysis" object: newest first. */
function technicalAnalysis(name: string, parameters: Record<string, string>): Record<string, Record<string, string>> {
  const reference = REFERENCE.find((c) => c.function === name && JSON.stringify(c.parameters) === JSON.stringify(parameters));
  if (!reference) throw new Error(`no reference case ${name} ${JSON.stringify(parameters)}`);
  const keys = Object.keys(reference.outputs);
  const count = reference.outputs[keys[0]!]!.length;
  const rows = Array.from({ length: count }, (_, i) => [BARS[reference.begin + i]!.date, Object.fromEntries(keys.map((key) => [key, fixed(reference.outputs[key]![i]!)]))] as const);
  return Object.fromEntries(rows.reverse());
}

const invalidCall = (name: string) => ({
  'Error Message': `Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for ${name}.`,
});

describe.each(testEngines())('technical indicators at the Alpha Vantage gateway on %s', (engine) => {
  /** The service with FIX's 300 bars stored by its first fetch (Twelve Data gives the whole depth in one call). */
  async function setup() {
    const upstream = await startUpstream();
    const service = await startService(engine, providerEnv(upstream));
    const key = await register(service.app);
    upstream.set('alphavantage', 'FIX', { kind: 'unknown' });
    upstream.set('twelvedata', 'FIX', { kind: 'bars', bars: [...BARS].reverse() });
    upstream.set('alphavantage', 'NOPE', { kind: 'unknown' });
    upstream.set('twelvedata', 'NOPE', { kind: 'unknown' });
    const query = (parameters: string) => service.app.inject({ method: 'GET', url: `/query?${parameters}&apikey=${key}` });
    return { upstream, service, key, query };
  }

  it("when SMA is asked of the stored daily bars, then Alpha Vantage's Meta Data and TA-Lib's values, key for key, newest first", async () => {
    const { upstream, query } = await setup();
    const response = await query('function=SMA&symbol=FIX&interval=daily&time_period=20&series_type=close');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.body).toBe(
      JSON.stringify({
        'Meta Data': {
          '1: Symbol': 'FIX',
          '2: Indicator': 'Simple Moving Average (SMA)',
          '3: Last Refreshed': LAST_DATE,
          '4: Interval': 'daily',
          '5: Time Period': 20,
          '6: Series Type': 'close',
          '7: Time Zone': 'US/Eastern',
        },
        'Technical Analysis: SMA': technicalAnalysis('SMA', { time_period: '20', series_type: 'close' }),
      }),
    );
    const again = await query('function=RSI&symbol=FIX&interval=daily&time_period=9&series_type=open');
    expect(again.headers['x-cache']).toBe('HIT');
    expect(again.json()['Technical Analysis: RSI']).toStrictEqual(technicalAnalysis('RSI', { time_period: '9', series_type: 'open' }));
    expect(upstream.calls.twelvedata).toEqual(['FIX']);
  });

  it('when indicators of several families are asked, then each has its own Meta Data and TA-Lib\'s values, and no upstream call of its own', async () => {
    const { upstream, query } = await setup();
    const macd = (await query('function=MACD&symbol=FIX&interval=daily&series_type=close')).json();
    expect(macd['Meta Data']).toStrictEqual({
      '1: Symbol': 'FIX',
      '2: Indicator': 'Moving Average Convergence/Divergence (MACD)',
      '3: Last Refreshed': LAST_DATE,
      '4: Interval': 'daily',
      '5.1: Fast Period': 12,
      '5.2: Slow Period': 26,
      '5.3: Signal Period': 9,
      '6: Series Type': 'close',
      '7: Time Zone': 'US/Eastern',
    });
    expect(macd['Technical Analysis: MACD']).toStrictEqual(technicalAnalysis('MACD', { series_type: 'close', fastperiod: '12', slowperiod: '26', signalperiod: '9' }));

    const bbands = (await query('function=BBANDS&symbol=FIX&interval=daily&time_period=20&series_type=close&nbdevup=1.5&nbdevdn=2.5&matype=1')).json();
    expect(bbands['Meta Data']).toStrictEqual({
      '1: Symbol': 'FIX',
      '2: Indicator': 'Bollinger Bands (BBANDS)',
      '3: Last Refreshed': LAST_DATE,
      '4: Interval': 'daily',
      '5: Time Period': 20,
      '6.1: Deviation multiplier for upper band': 1.5,
      '6.2: Deviation multiplier for lower band': 2.5,
      '6.3: MA Type': 1,
      '7: Series Type': 'close',
      '8: Time Zone': 'US/Eastern Time',
    });
    expect(bbands['Technical Analysis: BBANDS']).toStrictEqual(technicalAnalysis('BBANDS', { time_period: '20', series_type: 'close', nbdevup: '1.5', nbdevdn: '2.5', matype: '1' }));

    const stoch = (await query('function=STOCH&symbol=FIX&interval=daily')).json();
    expect(stoch['Meta Data']).toStrictEqual({
      '1: Symbol': 'FIX',
      '2: Indicator': 'Stochastic (STOCH)',
      '3: Last Refreshed': LAST_DATE,
      '4: Interval': 'daily',
      '5.1: FastK Period': 5,
      '5.2: SlowK Period': 3,
      '5.3: SlowK MA Type': 0,
      '5.4: SlowD Period': 3,
      '5.5: SlowD MA Type': 0,
      '6: Time Zone': 'US/Eastern Time',
    });
    expect(stoch['Technical Analysis: STOCH']).toStrictEqual(technicalAnalysis('STOCH', { fastkperiod: '5', slowkperiod: '3', slowkmatype: '0', slowdperiod: '3', slowdmatype: '0' }));

    const ad = (await query('function=AD&symbol=FIX&interval=daily')).json();
    expect(ad['Meta Data']).toStrictEqual({ '1: Symbol': 'FIX', '2: Indicator': 'Chaikin A/D Line', '3: Last Refreshed': LAST_DATE, '4: Interval': 'daily', '5: Time Zone': 'US/Eastern Time' });
    expect(ad['Technical Analysis: Chaikin A/D']).toStrictEqual(technicalAnalysis('AD', {}));

    for (const [name, parameters] of [
      ['ADX', { time_period: '14' }],
      ['WILLR', { time_period: '5' }],
      ['MFI', { time_period: '14' }],
      ['STOCHRSI', { time_period: '20', series_type: 'open', fastkperiod: '14', fastdperiod: '3', fastdmatype: '1' }],
      ['MACDEXT', { series_type: 'low', fastperiod: '26', slowperiod: '5', signalperiod: '4', fastmatype: '6', slowmatype: '2', signalmatype: '5' }],
    ] as const) {
      const body = (await query(`function=${name}&symbol=FIX&interval=daily&${new URLSearchParams(parameters)}`)).json();
      expect(body[`Technical Analysis: ${name}`], name).toStrictEqual(technicalAnalysis(name, parameters));
    }
    expect(upstream.calls.twelvedata).toEqual(['FIX']);
  });

  it('when an indicator is asked as CSV, then `time` and its columns, newest first, CRLF-ended', async () => {
    const { query } = await setup();
    const response = await query('function=MACD&symbol=FIX&interval=daily&series_type=close&datatype=csv');
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const lines = response.body.split('\r\n');
    expect(lines[0]).toBe('time,MACD,MACD_Hist,MACD_Signal');
    const expected = technicalAnalysis('MACD', { series_type: 'close', fastperiod: '12', slowperiod: '26', signalperiod: '9' });
    expect(lines.slice(1, -1)).toEqual(Object.entries(expected).map(([date, v]) => `${date},${v.MACD},${v.MACD_Hist},${v.MACD_Signal}`));
    expect(lines[lines.length - 1]).toBe('');
  });

  it('when weekly or monthly is asked, then the indicator is of the weekly or monthly bars made from the daily ones', async () => {
    const { upstream, query } = await setup();
    // Each week's (Monday to Sunday) and month's last close, computed here from the fixture.
    const lastCloses = (keyOf: (date: string) => string) => {
      const periods = new Map<string, { date: string; close: number }>();
      for (const bar of BARS) periods.set(keyOf(bar.date), { date: bar.date, close: Number(bar.close) });
      return [...periods.values()];
    };
    const monday = (date: string) => {
      const day = new Date(`${date}T00:00:00Z`);
      day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
      return day.toISOString().slice(0, 10);
    };
    for (const [interval, periods] of [
      ['weekly', lastCloses(monday)],
      ['monthly', lastCloses((date) => date.slice(0, 7))],
    ] as const) {
      const body = (await query(`function=SMA&symbol=FIX&interval=${interval}&time_period=3&series_type=close`)).json();
      expect(body['Meta Data']['4: Interval']).toBe(interval);
      expect(body['Meta Data']['3: Last Refreshed']).toBe(LAST_DATE);
      // Over 3 periods: a mean of 4-decimal prices divided by 3 is never a decimal tie that float64 rounding could tip either way.
      const expected = periods.slice(2).map((period, i) => [period.date, { SMA: fixed(periods.slice(i, i + 3).reduce((sum, p) => sum + p.close, 0) / 3) }]);
      expect(body['Technical Analysis: SMA'], interval).toStrictEqual(Object.fromEntries(expected.reverse()));
    }
    expect(upstream.calls.twelvedata).toEqual(['FIX']);
  });

  it.each([
    ['no interval', 'function=SMA&symbol=FIX&time_period=10&series_type=close', 'SMA'],
    ['an unknown interval', 'function=RSI&symbol=FIX&interval=1day&time_period=10&series_type=close', 'RSI'],
    ['no time_period', 'function=RSI&symbol=FIX&interval=daily&series_type=close', 'RSI'],
    ['a time_period below TA-Lib\'s bound', 'function=EMA&symbol=FIX&interval=daily&time_period=1&series_type=close', 'EMA'],
    ['a time_period above TA-Lib\'s bound', 'function=EMA&symbol=FIX&interval=daily&time_period=100001&series_type=close', 'EMA'],
    ['no series_type', 'function=SMA&symbol=FIX&interval=daily&time_period=10', 'SMA'],
    ['an unknown series_type', 'function=SMA&symbol=FIX&interval=daily&time_period=10&series_type=median', 'SMA'],
    ['MAMA as the moving-average type', 'function=MACDEXT&symbol=FIX&interval=daily&series_type=close&fastmatype=8', 'MACDEXT'],
    ['a deviation that is not a number', 'function=BBANDS&symbol=FIX&interval=daily&time_period=5&series_type=close&nbdevup=x', 'BBANDS'],
    ['no symbol', 'function=ATR&interval=daily&time_period=14', 'ATR'],
    ['an unknown symbol', 'function=ATR&symbol=NOPE&interval=daily&time_period=14', 'ATR'],
  ])('when an indicator call has %s, then HTTP 200 with Alpha Vantage\'s "Error Message"', async (_, parameters, name) => {
    const { upstream, query } = await setup();
    for (const datatype of ['', '&datatype=csv']) {
      const response = await query(`${parameters}${datatype}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toStrictEqual(invalidCall(name));
    }
    // A refused parameter looks nothing up.
    if (!parameters.includes('NOPE')) expect(upstream.calls.twelvedata).toEqual([]);
  });

  it('when the bars are flat with zero volume, then every indicator answers numbers (0 where TA-Lib divides by nothing), never NaN', async () => {
    const { upstream, query } = await setup();
    const flat: Bar[] = Array.from({ length: 80 }, (_, i) => ({
      date: new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10),
      open: '10.0000',
      high: '10.0000',
      low: '10.0000',
      close: '10.0000',
      volume: 0,
    })).reverse();
    upstream.set('alphavantage', 'FLAT', { kind: 'bars', bars: flat });
    const calls = [
      'RSI&time_period=14&series_type=close',
      'STOCH',
      'STOCHF',
      'STOCHRSI&time_period=14&series_type=close',
      'WILLR&time_period=14',
      'CCI&time_period=14',
      'MFI&time_period=14',
      'AD',
      'ADOSC',
      'OBV',
      'NATR&time_period=14',
      'ADX&time_period=14',
      'ROC&time_period=10&series_type=close',
      'KAMA&time_period=10&series_type=close',
      'BBANDS&time_period=20&series_type=close',
    ];
    for (const call of calls) {
      const response = await query(`function=${call.replace('&', '&symbol=FLAT&interval=daily&')}${call.includes('&') ? '' : '&symbol=FLAT&interval=daily'}`);
      expect(response.body, call).not.toMatch(/NaN|Infinity|null/);
      const data = Object.entries(response.json()).find(([k]) => k.startsWith('Technical Analysis'))?.[1] as Record<string, Record<string, string>>;
      const values = Object.values(data).flatMap((row) => Object.values(row));
      expect(values.length, call).toBeGreaterThan(0);
      for (const value of values) expect(value, call).toMatch(/^-?\d+\.\d{4}$/);
    }
    expect((await query('function=RSI&symbol=FLAT&interval=daily&time_period=14&series_type=close')).json()['Technical Analysis: RSI']['2024-03-20']).toStrictEqual({ RSI: '0.0000' });
    expect((await query('function=BBANDS&symbol=FLAT&interval=daily&time_period=20&series_type=close')).json()['Technical Analysis: BBANDS']['2024-03-20']).toStrictEqual({
      'Real Upper Band': '10.0000',
      'Real Lower Band': '10.0000',
      'Real Middle Band': '10.0000',
    });
  });

  it('when fewer bars are stored than the indicator looks back, then Meta Data and no values', async () => {
    const { upstream, query } = await setup();
    upstream.set('alphavantage', 'FEW', { kind: 'bars', bars: [...BARS].reverse().slice(0, 10) });
    const body = (await query('function=SMA&symbol=FEW&interval=daily&time_period=20&series_type=close')).json();
    expect(body['Meta Data']['3: Last Refreshed']).toBe(LAST_DATE);
    expect(body['Technical Analysis: SMA']).toStrictEqual({});
  });
});

describe.each(testEngines())('the published Alpha Vantage client (alphavantage 2.5.0) calling indicators on %s', (engine) => {
  it('when only its base URL is changed, then its SMA, RSI, MACD and BBANDS are TA-Lib\'s values', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'FIX', { kind: 'unknown' });
    upstream.set('twelvedata', 'FIX', { kind: 'bars', bars: [...BARS].reverse() });
    const service = await startService(engine, providerEnv(upstream));
    const key = await register(service.app);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = service.app.server.address() as AddressInfo;
    // The client keeps its base URL in the config object it was given (`config.base + params`); it has no other setting for it.
    const config: { key: string; base?: string } = { key };
    const av = alpha(config);
    config.base = `http://127.0.0.1:${port}/query?apikey=${key}&`;

    const sma = (await av.technical.sma('FIX', 'daily', 20, 'close')) as Record<string, unknown>;
    expect(sma['Technical Analysis: SMA']).toStrictEqual(technicalAnalysis('SMA', { time_period: '20', series_type: 'close' }));
    const rsi = (await av.technical.rsi('FIX', 'daily', 20, 'close')) as Record<string, unknown>;
    expect(rsi['Technical Analysis: RSI']).toStrictEqual(technicalAnalysis('RSI', { time_period: '20', series_type: 'close' }));
    // Its typings want every argument; undefined ones are left out of the URL (the client's own defaults are 12, 26, 9).
    const macd = (await av.technical.macd('FIX', 'daily', 'close', 12, 26, 9, undefined, undefined, undefined)) as Record<string, Record<string, unknown>>;
    expect(macd['Meta Data']!['5.3: Signal Period']).toBe(9);
    expect(macd['Technical Analysis: MACD']).toStrictEqual(technicalAnalysis('MACD', { series_type: 'close', fastperiod: '12', slowperiod: '26', signalperiod: '9' }));
    const bbands = (await av.technical.bbands('FIX', 'daily', 20, 'close', 2, 2, 0)) as Record<string, unknown>;
    expect(bbands['Technical Analysis: BBANDS']).toStrictEqual(technicalAnalysis('BBANDS', { time_period: '20', series_type: 'close', nbdevup: '2', nbdevdn: '2', matype: '0' }));
    // The client checks no technical call's body: a refusal comes back as Alpha Vantage's error body…
    await expect(av.technical.sma('FIX', 'hourly', 20, 'close')).resolves.toStrictEqual(invalidCall('SMA'));
    expect(upstream.passThroughCalls).toEqual([]);
    // …and an intraday interval, which the store does not hold, is Alpha Vantage's to compute: passed through.
    const intraday = (await av.technical.sma('FIX', '5min', 20, 'close')) as Record<string, Record<string, unknown>>;
    expect(intraday['Meta Data']!['4: Interval']).toBe('5min');
    expect(Object.keys(intraday['Technical Analysis: SMA']!)).toEqual(['2022-07-29 19:55', '2022-07-29 19:50']);
    expect(upstream.passThroughCalls.map((call) => call.function)).toEqual(['SMA']);
    expect(upstream.calls.twelvedata).toEqual(['FIX']);
  });
});
