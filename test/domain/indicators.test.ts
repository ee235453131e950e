import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Bars, computeIndicator, indicatorNamed, indicatorText, INDICATORS, readParameters } from '../../src/domain/indicators/index.js';
import { ValidationError } from '../../src/domain/errors.js';

/** 300 deterministic bars with a flat, zero-volume stretch (test/fixtures/indicators/make-bars.mjs). */
const BARS = JSON.parse(readFileSync(new URL('../fixtures/indicators/bars.json', import.meta.url), 'utf8')) as {
  date: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
}[];

/** TA-Lib 0.4.0's own outputs over those bars (test/fixtures/indicators/reference.c and README.md). */
const REFERENCE = JSON.parse(readFileSync(new URL('../fixtures/indicators/reference.json', import.meta.url), 'utf8')) as {
  function: string;
  parameters: Record<string, string>;
  begin: number;
  outputs: Record<string, number[]>;
}[];

const column = (read: (bar: (typeof BARS)[number]) => string | number) => Float64Array.from(BARS, (bar) => Number(read(bar)));
const ALL_BARS: Required<Bars> = {
  open: column((b) => b.open),
  high: column((b) => b.high),
  low: column((b) => b.low),
  close: column((b) => b.close),
  volume: column((b) => b.volume),
};

describe('technical indicators against TA-Lib', () => {
  it('when every indicator the gateway serves is listed, then each has a TA-Lib reference case', () => {
    const referenced = new Set(REFERENCE.map((c) => c.function));
    expect(INDICATORS.map((d) => d.name).filter((name) => !referenced.has(name))).toEqual([]);
  });

  it.each(REFERENCE.map((c) => [`${c.function} ${JSON.stringify(c.parameters)}`, c] as const))(
    'when %s is computed, then it starts where TA-Lib starts and every value, at 4 decimals as served, is TA-Lib\'s',
    (_, reference) => {
      const definition = indicatorNamed(reference.function)!;
      const parameters = readParameters(definition, (name) => reference.parameters[name]);
      // Only the fields it says it reads are given: an indicator reading another would fail here.
      const bars: Bars = Object.fromEntries(definition.reads(parameters).map((field) => [field, ALL_BARS[field]]));
      const { begin, lines } = computeIndicator(definition, bars, parameters);
      const expected = Object.values(reference.outputs);
      expect(definition.outputs.map((o) => o.key)).toEqual(Object.keys(reference.outputs));
      expect(begin).toBe(reference.begin);
      lines.forEach((line, i) => {
        const want = expected[i]!;
        expect(line.length).toBe(want.length);
        expect(Array.from(line, indicatorText)).toEqual(want.map(indicatorText));
        // Closer than rounding shows: the same operations in the same order.
        line.forEach((value, j) => expect(Math.abs(value - want[j]!)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want[j]!))));
      });
    },
  );
});

describe('indicator parameters', () => {
  const sma = indicatorNamed('sma')!;
  const refusal = (definition = sma, query: Record<string, string>) => {
    try {
      readParameters(definition, (name) => query[name]);
    } catch (error) {
      if (error instanceof ValidationError) return error.message;
      throw error;
    }
    return 'accepted';
  };

  it("when Alpha Vantage's required parameters are missing, then the first missing is named", () => {
    expect(refusal(sma, { series_type: 'close' })).toBe('time_period: is required');
    expect(refusal(sma, { time_period: '10' })).toBe('series_type: is required');
  });

  it("when optional parameters are left out, then Alpha Vantage's defaults", () => {
    expect(readParameters(indicatorNamed('MACD')!, (name) => ({ series_type: 'close' })[name])).toEqual({ series_type: 'close', fastperiod: 12, slowperiod: 26, signalperiod: 9 });
    expect(readParameters(indicatorNamed('BBANDS')!, (name) => ({ series_type: 'open', time_period: '20' })[name])).toEqual({
      time_period: 20,
      series_type: 'open',
      nbdevup: 2,
      nbdevdn: 2,
      matype: 0,
    });
    expect(readParameters(indicatorNamed('STOCH')!, () => undefined)).toEqual({ fastkperiod: 5, slowkperiod: 3, slowdperiod: 3, slowkmatype: 0, slowdmatype: 0 });
    expect(readParameters(indicatorNamed('ADOSC')!, () => undefined)).toEqual({ fastperiod: 3, slowperiod: 10 });
  });

  it.each([
    ['1', 'time_period: must be an integer from 2 to 100000'],
    ['100001', 'time_period: must be an integer from 2 to 100000'],
    ['99999999999', 'time_period: must be an integer from 2 to 100000'],
    ['10.5', 'time_period: must be an integer from 2 to 100000'],
    ['-5', 'time_period: must be an integer from 2 to 100000'],
    ['1e3', 'time_period: must be an integer from 2 to 100000'],
    [' 10', 'time_period: must be an integer from 2 to 100000'],
  ])('when time_period is %j, then it is refused within TA-Lib\'s bounds', (value, message) => {
    expect(refusal(sma, { time_period: value, series_type: 'close' })).toBe(message);
  });

  it('when a series type, a moving-average type or a deviation is not one TA-Lib takes, then it is refused', () => {
    expect(refusal(sma, { time_period: '10', series_type: 'volume' })).toBe('series_type: must be one of close, open, high, low');
    expect(refusal(indicatorNamed('MACDEXT')!, { series_type: 'close', fastmatype: '8' })).toMatch(/^fastmatype: must be an integer from 0 to 7 .*8 \(MAMA\) is not served$/);
    expect(refusal(indicatorNamed('BBANDS')!, { time_period: '5', series_type: 'close', nbdevup: 'two' })).toMatch(/^nbdevup: must be a decimal number/);
    expect(refusal(indicatorNamed('BBANDS')!, { time_period: '5', series_type: 'close', nbdevup: '1e99' })).toMatch(/^nbdevup: must be a decimal number/);
    expect(refusal(indicatorNamed('ATR')!, { time_period: '1' })).toBe('accepted'); // TA-Lib's ATR takes 1
  });
});

describe('served values', () => {
  it('when a value is written, then 4 decimals, no negative zero, no exponent, and never a non-finite number', () => {
    expect(indicatorText(129.123449)).toBe('129.1234');
    expect(indicatorText(-0.00001)).toBe('0.0000');
    expect(indicatorText(491109805.14771)).toBe('491109805.1477');
    expect(indicatorText(1e22)).toBe('10000000000000000000000.0000');
    expect(() => indicatorText(Number.NaN)).toThrow(RangeError);
    expect(() => indicatorText(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('when the bars are flat with zero volume, or fewer than the lookback, then every indicator gives finite values or none', () => {
    const flat = Float64Array.from({ length: 60 }, () => 50);
    const bars: Required<Bars> = { open: flat, high: flat, low: flat, close: flat, volume: new Float64Array(60) };
    for (const definition of INDICATORS) {
      const parameters = readParameters(definition, (name) => ({ time_period: '5', series_type: 'close' })[name]);
      const { lines } = computeIndicator(definition, bars, parameters);
      for (const line of lines) for (const value of line) expect(Number.isFinite(value), definition.name).toBe(true);
      const few = computeIndicator(definition, { open: flat.subarray(0, 2), high: flat.subarray(0, 2), low: flat.subarray(0, 2), close: flat.subarray(0, 2), volume: bars.volume.subarray(0, 2) }, parameters);
      for (const line of few.lines) for (const value of line) expect(Number.isFinite(value), definition.name).toBe(true);
    }
  });
});
