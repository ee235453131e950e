import { Type } from 'typebox';
import { INDICATORS, MAX_PERIOD } from '../../../domain/indicators/index.js';
import { IntervalSchema, IsoDate } from './common.js';

/** Every indicator parameter, by its Alpha Vantage name, documented once; which ones an indicator reads is its own. */
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  time_period: `Bars per window, an integer up to ${MAX_PERIOD} (from 2; from 1 for MOM, ROC, ATR, NATR); required where Alpha Vantage requires it`,
  series_type: 'close, open, high or low; required where Alpha Vantage requires it',
  fastperiod: 'MACD, MACDEXT (default 12), ADOSC (default 3)',
  slowperiod: 'MACD, MACDEXT (default 26), ADOSC (default 10)',
  signalperiod: 'MACD, MACDEXT (default 9)',
  fastmatype: 'MACDEXT: moving-average type, 0 SMA, 1 EMA, 2 WMA, 3 DEMA, 4 TEMA, 5 TRIMA, 6 T3, 7 KAMA (default 0)',
  slowmatype: 'MACDEXT: moving-average type (default 0)',
  signalmatype: 'MACDEXT: moving-average type (default 0)',
  fastkperiod: 'STOCH, STOCHF, STOCHRSI (default 5)',
  slowkperiod: 'STOCH (default 3)',
  slowdperiod: 'STOCH (default 3)',
  slowkmatype: 'STOCH: moving-average type (default 0)',
  slowdmatype: 'STOCH: moving-average type (default 0)',
  fastdperiod: 'STOCHF, STOCHRSI (default 3)',
  fastdmatype: 'STOCHF, STOCHRSI: moving-average type (default 0)',
  nbdevup: 'BBANDS: standard deviations above (default 2)',
  nbdevdn: 'BBANDS: standard deviations below (default 2)',
  matype: 'BBANDS: moving-average type of the middle band (default 0)',
};

export const IndicatorParams = Type.Object({
  symbol: Type.String(),
  name: Type.String({ description: `${INDICATORS.map((d) => d.name).join(', ')} (any case)` }),
});

export const IndicatorQuery = Type.Object({
  interval: Type.Optional(
    IntervalSchema('1day (default); 1week or 1month: of the weekly or monthly bars made from the daily ones, as history makes them'),
  ),
  from: Type.Optional(IsoDate('YYYY-MM-DD, inclusive: the first value given (the indicator is computed over every stored bar)')),
  to: Type.Optional(IsoDate('YYYY-MM-DD, inclusive')),
  ...Object.fromEntries(Object.entries(PARAMETER_DESCRIPTIONS).map(([name, description]) => [name, Type.Optional(Type.String({ description }))])),
});

export const IndicatorSchema = Type.Object({
  symbol: Type.String(),
  indicator: Type.String({ description: "Alpha Vantage's name of it" }),
  interval: IntervalSchema(),
  parameters: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()]), { description: 'Every parameter the indicator read, defaults filled in' }),
  values: Type.Array(
    Type.Object(
      { date: IsoDate("The bar's date: a session, or a week's or month's last session") },
      { additionalProperties: Type.String({ description: 'Each output line (e.g. sma; macd, macd_hist, macd_signal), 4 decimals' }) },
    ),
    { description: 'Oldest first, from the first bar past the lookback (or `from`)' },
  ),
});
