/**
 * The technical indicators served, by Alpha Vantage's function name: each
 * one's parameters (Alpha Vantage's names and defaults, TA-Lib's bounds), the
 * bar fields it reads, its output lines (Alpha Vantage's keys, and snake_case
 * fields for the native API), its "Meta Data" labels as Alpha Vantage's own
 * answers write them, and the function that computes it.
 *
 * Float policy: prices and volumes are read as float64 and every indicator is
 * computed in float64 following TA-Lib's order of operations (TA-Lib computes
 * in double), then rounded to 4 decimals for the wire (indicatorText). Every
 * division is guarded as TA-Lib guards it; a value that is not finite cannot
 * arise from finite prices, and would be refused rather than served.
 */
import { ValidationError } from '../errors.js';
import { dema, ema, kama, ma, MA_TYPES, sma, t3, tema, trima, wma } from './moving-averages.js';
import { adx, adxr, aroon, aroonosc, cci, macd, macdext, mom, roc, rsi, stoch, stochf, stochrsi, willr } from './oscillators.js';
import { type Line, type Lines, lines } from './output.js';
import { atr, bbands, midpoint, natr, trange } from './volatility.js';
import { ad, adosc, mfi, obv } from './volume.js';

export const SERIES_TYPES = ['close', 'open', 'high', 'low'] as const;
export type SeriesType = (typeof SERIES_TYPES)[number];
export type BarField = SeriesType | 'volume';

/** The bar fields an indicator reads, each oldest first; only those it reads are parsed. */
export type Bars = Partial<Record<BarField, Float64Array>>;

/** TA-Lib's largest period; no window is allowed to be larger, so no request allocates more than the bars it reads. */
export const MAX_PERIOD = 100_000;
/** TA-Lib's range for a number of standard deviations. */
const MAX_DEVIATIONS = 3e37;

export interface ParameterDefinition {
  /** Alpha Vantage's query parameter. */
  name: string;
  kind: 'period' | 'matype' | 'series_type' | 'deviations';
  /** Absent: the parameter is required, as Alpha Vantage requires it. */
  default?: number | SeriesType;
  /** For periods: TA-Lib's smallest. */
  min?: number;
}

export type ParameterValues = Record<string, number | SeriesType>;

export interface OutputDefinition {
  /** Alpha Vantage's key in each date's object, and its CSV column. */
  key: string;
  /** The native API's field. */
  field: string;
}

export interface IndicatorDefinition {
  name: string;
  /** "2: Indicator". */
  label: string;
  /** The data's key; "Technical Analysis: NAME" unless Alpha Vantage names it otherwise (AD). */
  dataKey: string;
  parameters: ParameterDefinition[];
  /** The Meta Data keys after "4: Interval", each with the parameter it shows (or a fixed value), then the time zone's. */
  meta: [key: string, shows: string | number][];
  timeZone: [key: string, zone: string];
  outputs: OutputDefinition[];
  /** The bar fields read with these parameters. */
  reads(parameters: ParameterValues): BarField[];
  /** The output lines, in `outputs` order, over bars oldest first. */
  compute(bars: Bars, parameters: ParameterValues): Lines;
}

const timePeriod = (min = 2): ParameterDefinition => ({ name: 'time_period', kind: 'period', min });
const seriesType: ParameterDefinition = { name: 'series_type', kind: 'series_type' };
const period = (name: string, defaultValue: number, min = 1): ParameterDefinition => ({ name, kind: 'period', default: defaultValue, min });
const maType = (name: string): ParameterDefinition => ({ name, kind: 'matype', default: 0 });

const num = (values: ParameterValues, name: string) => values[name] as number;
const series = (bars: Bars, values: ParameterValues) => bars[values.series_type as SeriesType]!;
const output = (key: string, field = key.toLowerCase()): OutputDefinition => ({ key, field });
const EASTERN = 'US/Eastern';
// Alpha Vantage's answers say "US/Eastern Time" for most indicators and "US/Eastern" for a few; each as it says it.
const EASTERN_TIME = 'US/Eastern Time';

/** An indicator of one price series and `time_period`: SMA, RSI, MOM… */
function ofSeries(name: string, label: string, compute: (input: Float64Array, period: number) => Line, options: { min?: number; zone?: string } = {}): IndicatorDefinition {
  return {
    name,
    label,
    dataKey: `Technical Analysis: ${name}`,
    parameters: [timePeriod(options.min), seriesType],
    meta: [['5: Time Period', 'time_period'], ['6: Series Type', 'series_type']],
    timeZone: ['7: Time Zone', options.zone ?? EASTERN_TIME],
    outputs: [output(name)],
    reads: (values) => [values.series_type as SeriesType],
    compute: (bars, values) => lines(compute(series(bars, values), num(values, 'time_period'))),
  };
}

/** An indicator of high, low and close (and volume for MFI) and `time_period`: ATR, ADX, CCI… */
function ofBars(name: string, label: string, fields: BarField[], compute: (bars: Bars, period: number) => Lines, outputs = [output(name)], min = 2): IndicatorDefinition {
  return {
    name,
    label,
    dataKey: `Technical Analysis: ${name}`,
    parameters: [timePeriod(min)],
    meta: [['5: Time Period', 'time_period']],
    timeZone: ['6: Time Zone', EASTERN_TIME],
    outputs,
    reads: () => fields,
    compute: (bars, values) => compute(bars, num(values, 'time_period')),
  };
}

const HLC: BarField[] = ['high', 'low', 'close'];
const HLCV: BarField[] = ['high', 'low', 'close', 'volume'];
const hlc = (bars: Bars) => [bars.high!, bars.low!, bars.close!] as const;

const DEFINITIONS: IndicatorDefinition[] = [
  ofSeries('SMA', 'Simple Moving Average (SMA)', sma, { zone: EASTERN }),
  ofSeries('EMA', 'Exponential Moving Average (EMA)', ema, { zone: EASTERN }),
  ofSeries('WMA', 'Weighted Moving Average (WMA)', wma, { zone: EASTERN }),
  ofSeries('DEMA', 'Double Exponential Moving Average (DEMA)', dema),
  ofSeries('TEMA', 'Triple Exponential Moving Average (TEMA)', tema, { zone: EASTERN }),
  ofSeries('TRIMA', 'Triangular Exponential Moving Average (TRIMA)', trima),
  ofSeries('KAMA', 'Kaufman Adaptive Moving Average (KAMA)', kama),
  {
    ...ofSeries('T3', 'Triple Exponential Moving Average (T3)', (input, p) => t3(input, p)),
    // Alpha Vantage shows TA-Lib's volume factor, which it does not let a caller change.
    meta: [['5: Time Period', 'time_period'], ['6: Volume Factor (vFactor)', 0.7], ['7: Series Type', 'series_type']],
    timeZone: ['8: Time Zone', EASTERN_TIME],
  },
  {
    name: 'MACD',
    label: 'Moving Average Convergence/Divergence (MACD)',
    dataKey: 'Technical Analysis: MACD',
    // TA-Lib takes a signal period of 1, but then looks back −1 bars; 2 is the smallest that means a signal line.
    parameters: [seriesType, period('fastperiod', 12, 2), period('slowperiod', 26, 2), period('signalperiod', 9, 2)],
    meta: [['5.1: Fast Period', 'fastperiod'], ['5.2: Slow Period', 'slowperiod'], ['5.3: Signal Period', 'signalperiod'], ['6: Series Type', 'series_type']],
    timeZone: ['7: Time Zone', EASTERN],
    outputs: macdOutputs(),
    reads: (values) => [values.series_type as SeriesType],
    compute: (bars, v) => macdOrder(macd(series(bars, v), num(v, 'fastperiod'), num(v, 'slowperiod'), num(v, 'signalperiod'))),
  },
  {
    name: 'MACDEXT',
    label: 'MACD with Controllable MA Type (MACDEXT)',
    dataKey: 'Technical Analysis: MACDEXT',
    parameters: [
      seriesType,
      period('fastperiod', 12, 2),
      period('slowperiod', 26, 2),
      period('signalperiod', 9, 1),
      maType('fastmatype'),
      maType('slowmatype'),
      maType('signalmatype'),
    ],
    meta: [
      ['5.1: Fast Period', 'fastperiod'],
      ['5.2: Slow Period', 'slowperiod'],
      ['5.3: Signal Period', 'signalperiod'],
      ['5.4: Fast MA Type', 'fastmatype'],
      ['5.5: Slow MA Type', 'slowmatype'],
      ['5.6: Signal MA Type', 'signalmatype'],
      ['6: Series Type', 'series_type'],
    ],
    timeZone: ['7: Time Zone', EASTERN_TIME],
    outputs: macdOutputs(),
    reads: (values) => [values.series_type as SeriesType],
    compute: (bars, v) =>
      macdOrder(
        macdext(series(bars, v), num(v, 'fastperiod'), num(v, 'fastmatype'), num(v, 'slowperiod'), num(v, 'slowmatype'), num(v, 'signalperiod'), num(v, 'signalmatype')),
      ),
  },
  {
    name: 'STOCH',
    label: 'Stochastic (STOCH)',
    dataKey: 'Technical Analysis: STOCH',
    parameters: [period('fastkperiod', 5), period('slowkperiod', 3), period('slowdperiod', 3), maType('slowkmatype'), maType('slowdmatype')],
    meta: [
      ['5.1: FastK Period', 'fastkperiod'],
      ['5.2: SlowK Period', 'slowkperiod'],
      ['5.3: SlowK MA Type', 'slowkmatype'],
      ['5.4: SlowD Period', 'slowdperiod'],
      ['5.5: SlowD MA Type', 'slowdmatype'],
    ],
    timeZone: ['6: Time Zone', EASTERN_TIME],
    outputs: [output('SlowK', 'slow_k'), output('SlowD', 'slow_d')],
    reads: () => HLC,
    compute: (bars, v) => stoch(...hlc(bars), num(v, 'fastkperiod'), num(v, 'slowkperiod'), num(v, 'slowkmatype'), num(v, 'slowdperiod'), num(v, 'slowdmatype')),
  },
  {
    name: 'STOCHF',
    label: 'Stochastic Fast (STOCHF)',
    dataKey: 'Technical Analysis: STOCHF',
    parameters: [period('fastkperiod', 5), period('fastdperiod', 3), maType('fastdmatype')],
    meta: [['5.1: FastK Period', 'fastkperiod'], ['5.2: FastD Period', 'fastdperiod'], ['5.3: FastD MA Type', 'fastdmatype']],
    timeZone: ['6: Time Zone', EASTERN_TIME],
    outputs: [output('FastK', 'fast_k'), output('FastD', 'fast_d')],
    reads: () => HLC,
    compute: (bars, v) => stochf(...hlc(bars), num(v, 'fastkperiod'), num(v, 'fastdperiod'), num(v, 'fastdmatype')),
  },
  ofSeries('RSI', 'Relative Strength Index (RSI)', (input, p) => rsi(input, p)),
  {
    name: 'STOCHRSI',
    label: 'Stochastic Relative Strength Index (STOCHRSI)',
    dataKey: 'Technical Analysis: STOCHRSI',
    parameters: [timePeriod(), seriesType, period('fastkperiod', 5), period('fastdperiod', 3), maType('fastdmatype')],
    meta: [
      ['5: Time Period', 'time_period'],
      ['6.1: FastK Period', 'fastkperiod'],
      ['6.2: FastD Period', 'fastdperiod'],
      ['6.3: FastD MA Type', 'fastdmatype'],
      ['7: Series Type', 'series_type'],
    ],
    timeZone: ['8: Time Zone', EASTERN_TIME],
    outputs: [output('FastK', 'fast_k'), output('FastD', 'fast_d')],
    reads: (values) => [values.series_type as SeriesType],
    compute: (bars, v) => stochrsi(series(bars, v), num(v, 'time_period'), num(v, 'fastkperiod'), num(v, 'fastdperiod'), num(v, 'fastdmatype')),
  },
  ofBars('WILLR', "Williams' %R (WILLR)", HLC, (bars, p) => lines(willr(...hlc(bars), p))),
  ofBars('ADX', 'Average Directional Movement Index (ADX)', HLC, (bars, p) => lines(adx(...hlc(bars), p))),
  ofBars('ADXR', 'Average Directional Movement Index Rating (ADXR)', HLC, (bars, p) => lines(adxr(...hlc(bars), p))),
  ofBars('CCI', 'Commodity Channel Index (CCI)', HLC, (bars, p) => lines(cci(...hlc(bars), p))),
  ofBars('AROON', 'Aroon (AROON)', ['high', 'low'], (bars, p) => aroon(bars.high!, bars.low!, p), [output('Aroon Down', 'aroon_down'), output('Aroon Up', 'aroon_up')]),
  ofBars('AROONOSC', 'Aroon Oscillator (AROONOSC)', ['high', 'low'], (bars, p) => lines(aroonosc(bars.high!, bars.low!, p))),
  ofSeries('MOM', 'Momentum (MOM)', mom, { min: 1 }),
  ofSeries('ROC', 'Rate of change : ((price/prevPrice)-1)*100', roc, { min: 1 }),
  {
    name: 'BBANDS',
    label: 'Bollinger Bands (BBANDS)',
    dataKey: 'Technical Analysis: BBANDS',
    parameters: [timePeriod(), seriesType, { name: 'nbdevup', kind: 'deviations', default: 2 }, { name: 'nbdevdn', kind: 'deviations', default: 2 }, maType('matype')],
    meta: [
      ['5: Time Period', 'time_period'],
      ['6.1: Deviation multiplier for upper band', 'nbdevup'],
      ['6.2: Deviation multiplier for lower band', 'nbdevdn'],
      ['6.3: MA Type', 'matype'],
      ['7: Series Type', 'series_type'],
    ],
    timeZone: ['8: Time Zone', EASTERN_TIME],
    // Alpha Vantage's order: upper, lower, middle.
    outputs: [output('Real Upper Band', 'upper_band'), output('Real Lower Band', 'lower_band'), output('Real Middle Band', 'middle_band')],
    reads: (values) => [values.series_type as SeriesType],
    compute: (bars, v) => {
      const { begin, lines: [upper, middle, lower] } = bbands(series(bars, v), num(v, 'time_period'), num(v, 'nbdevup'), num(v, 'nbdevdn'), num(v, 'matype'));
      return { begin, lines: [upper!, lower!, middle!] };
    },
  },
  ofSeries('MIDPOINT', 'MidPoint over period (MIDPOINT)', midpoint),
  {
    ...ofBars('TRANGE', 'True Range (TRANGE)', HLC, (bars) => lines(trange(...hlc(bars)))),
    parameters: [],
    meta: [],
    timeZone: ['5: Time Zone', EASTERN_TIME],
  },
  ofBars('ATR', 'Average True Range (ATR)', HLC, (bars, p) => lines(atr(...hlc(bars), p)), undefined, 1),
  ofBars('NATR', 'Normalized Average True Range (NATR)', HLC, (bars, p) => lines(natr(...hlc(bars), p)), undefined, 1),
  {
    ...ofBars('AD', 'Chaikin A/D Line', HLCV, (bars) => lines(ad(...hlc(bars), bars.volume!)), [output('Chaikin A/D', 'ad')]),
    dataKey: 'Technical Analysis: Chaikin A/D',
    parameters: [],
    meta: [],
    timeZone: ['5: Time Zone', EASTERN_TIME],
  },
  {
    name: 'ADOSC',
    label: 'Chaikin A/D Oscillator (ADOSC)',
    dataKey: 'Technical Analysis: ADOSC',
    parameters: [period('fastperiod', 3, 2), period('slowperiod', 10, 2)],
    // Alpha Vantage labels ADOSC's fast and slow periods "FastK" and "SlowK".
    meta: [['5.1: FastK Period', 'fastperiod'], ['5.2: SlowK Period', 'slowperiod']],
    timeZone: ['6: Time Zone', EASTERN_TIME],
    outputs: [output('ADOSC')],
    reads: () => HLCV,
    compute: (bars, v) => lines(adosc(...hlc(bars), bars.volume!, num(v, 'fastperiod'), num(v, 'slowperiod'))),
  },
  {
    ...ofBars('OBV', 'On Balance Volume (OBV)', ['close', 'volume'], (bars) => lines(obv(bars.close!, bars.volume!))),
    parameters: [],
    meta: [],
    timeZone: ['5: Time Zone', EASTERN_TIME],
  },
  ofBars('MFI', 'Money Flow Index (MFI)', HLCV, (bars, p) => lines(mfi(...hlc(bars), bars.volume!, p))),
];

function macdOutputs(): OutputDefinition[] {
  // Alpha Vantage's CSV columns, in its order.
  return [output('MACD'), output('MACD_Hist', 'macd_hist'), output('MACD_Signal', 'macd_signal')];
}

/** MACD's lines (line, signal, histogram) in Alpha Vantage's order. */
function macdOrder({ begin, lines: [line, signal, histogram] }: Lines): Lines {
  return { begin, lines: [line!, histogram!, signal!] };
}

const BY_NAME = new Map(DEFINITIONS.map((definition) => [definition.name, definition]));

/** Every indicator served, in Alpha Vantage's documentation's order. */
export const INDICATORS: readonly IndicatorDefinition[] = DEFINITIONS;

/** The indicator of that name (Alpha Vantage's, any case), or undefined. */
export function indicatorNamed(name: string): IndicatorDefinition | undefined {
  return BY_NAME.get(name.toUpperCase());
}

/** Lines computed from bars oldest first; `begin` is the index of the first bar with a value. */
export type { Lines } from './output.js';

const INTEGER = /^\d{1,7}$/;
const DECIMAL = /^-?\d{1,38}(\.\d{1,16})?$/;

/**
 * The definition's parameters read from `text` (a query's values, undefined when absent): defaults filled in,
 * required ones required, each within TA-Lib's bounds. A ValidationError names the first at fault.
 */
export function readParameters(definition: IndicatorDefinition, text: (name: string) => string | undefined): ParameterValues {
  const values: ParameterValues = {};
  for (const parameter of definition.parameters) {
    const raw = text(parameter.name);
    if (raw === undefined || raw === '') {
      if (parameter.default === undefined) throw new ValidationError(parameter.name, 'is required');
      values[parameter.name] = parameter.default;
      continue;
    }
    values[parameter.name] = readParameter(parameter, raw);
  }
  return values;
}

function readParameter(parameter: ParameterDefinition, raw: string): number | SeriesType {
  switch (parameter.kind) {
    case 'series_type':
      if (!(SERIES_TYPES as readonly string[]).includes(raw)) throw new ValidationError(parameter.name, `must be one of ${SERIES_TYPES.join(', ')}`);
      return raw as SeriesType;
    case 'period': {
      const min = parameter.min ?? 2;
      const value = INTEGER.test(raw) ? Number(raw) : NaN;
      if (!(value >= min && value <= MAX_PERIOD)) throw new ValidationError(parameter.name, `must be an integer from ${min} to ${MAX_PERIOD}`);
      return value;
    }
    case 'matype': {
      const value = INTEGER.test(raw) ? Number(raw) : NaN;
      if (!(value >= 0 && value < MA_TYPES.length)) {
        throw new ValidationError(parameter.name, `must be an integer from 0 to ${MA_TYPES.length - 1} (${MA_TYPES.map((type, i) => `${i} ${type}`).join(', ')}); 8 (MAMA) is not served`);
      }
      return value;
    }
    case 'deviations': {
      const value = DECIMAL.test(raw) ? Number(raw) : NaN;
      if (!(Math.abs(value) <= MAX_DEVIATIONS)) throw new ValidationError(parameter.name, `must be a decimal number from -${MAX_DEVIATIONS} to ${MAX_DEVIATIONS}`);
      return value;
    }
  }
}

/** The indicator over bars oldest first: its lines, each from `begin`. */
export function computeIndicator(definition: IndicatorDefinition, bars: Bars, parameters: ParameterValues): Lines {
  return definition.compute(bars, parameters);
}

const FIXED_LIMIT = 1e21;

/**
 * A value as served: 4 decimals, as Alpha Vantage writes them ("-0.0000" written "0.0000"). Values of 1e21 or more
 * (whole numbers in float64) are written without exponent. A non-finite value is a bug, thrown, never served.
 */
export function indicatorText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`indicator value ${value} is not finite`);
  if (Math.abs(value) >= FIXED_LIMIT) return `${BigInt(value)}.0000`;
  const text = value.toFixed(4);
  return text === '-0.0000' ? '0.0000' : text;
}
