/**
 * The gateway's technical indicators (SMA, RSI, MACD, BBANDS…) in Alpha
 * Vantage's shapes: "Meta Data" with its numbered labels, then
 * "Technical Analysis: NAME" newest first, or CSV (`time,NAME`). What is
 * computed, and from which bars, is the use case's (app/market-data/indicators.ts);
 * this file knows only Alpha Vantage's format. alpha-vantage-gateway.ts adds
 * these functions to its map.
 */
import { getIndicator } from '../../app/market-data/indicators.js';
import type { Interval, QuoteService } from '../../app/market-data/quotes.js';
import type { CacheState, Requester } from '../../app/market-data/refresh.js';
import { ValidationError } from '../../domain/errors.js';
import { INDICATORS, type IndicatorDefinition } from '../../domain/indicators/index.js';
import type { PassThroughService } from '../../app/market-data/pass-through.js';
import type { PassThroughAnswer } from '../../domain/alpha-vantage-functions.js';
import { csvTable } from './csv.js';
import { type PassedCall, passThroughCall } from './gateway-pass-through.js';

// The shapes of alpha-vantage-gateway.ts's GatewayFunction, written here so that file imports this one and not
// the other way round (no cycle); its function map checks that these fit.
type Call = PassedCall;
type Answer = { cache: CacheState; json: object; csv: string } | { cache: CacheState; passed: PassThroughAnswer };
type IndicatorFunction = (services: { quotes: QuoteService; passThrough: PassThroughService }, call: Call) => Promise<Answer>;

/** Alpha Vantage's intervals that the stored daily bars can answer, and the history interval each is. */
export const STORED_INTERVALS: Readonly<Record<string, Interval>> = { daily: '1day', weekly: '1week', monthly: '1month' };

/**
 * Alpha Vantage's intraday intervals: not stored, so an indicator asked at one is passed through to Alpha
 * Vantage (gateway-pass-through.ts). Any other interval is refused here, asking nothing: forwarding it would
 * spend a call of the quota on an answer that can only be Alpha Vantage's "Invalid API call".
 */
export const INTRADAY_INTERVALS: ReadonlySet<string> = new Set(['1min', '5min', '15min', '30min', '60min']);

/** Whether an indicator's `interval` is one computed from the stored daily bars (daily, weekly, monthly). */
export function isStoredInterval(interval: string | undefined): interval is keyof typeof STORED_INTERVALS {
  return interval !== undefined && Object.hasOwn(STORED_INTERVALS, interval);
}

function indicatorFunction(definition: IndicatorDefinition): IndicatorFunction {
  return async (services, call) => {
    const { quotes } = services;
    const symbol = call.parameter('symbol');
    if (symbol === undefined || symbol === '') throw new ValidationError('symbol', 'is required');
    const interval = call.parameter('interval');
    if (interval === undefined || interval === '') throw new ValidationError('interval', 'is required');
    if (INTRADAY_INTERVALS.has(interval)) return passThroughCall(services, call);
    if (!isStoredInterval(interval)) throw new ValidationError('interval', 'must be daily, weekly, monthly or an intraday interval');
    const served = await getIndicator(quotes, { symbol, name: definition.name, interval: STORED_INTERVALS[interval]!, parameter: call.parameter }, call.requester);
    const rows = [...served.rows].reverse();
    const keys = definition.outputs.map((output) => output.key);
    const meta: Record<string, string | number> = {
      '1: Symbol': served.symbol,
      '2: Indicator': definition.label,
      '3: Last Refreshed': served.lastRefreshed,
      '4: Interval': interval,
    };
    for (const [key, shows] of definition.meta) meta[key] = typeof shows === 'number' ? shows : served.parameters[shows]!;
    meta[definition.timeZone[0]] = definition.timeZone[1];
    const values = (row: (typeof rows)[number]) => Object.fromEntries(keys.map((key, i) => [key, row.values[i]!]));
    return {
      cache: served.cache,
      json: { 'Meta Data': meta, [definition.dataKey]: Object.fromEntries(rows.map((row) => [row.date, values(row)])) },
      csv: csvTable(['time', ...keys], rows.map((row) => [row.date, ...row.values]), { lineEnd: '\r\n' }),
    };
  };
}

/** Each indicator served, by Alpha Vantage's function name, for the gateway's function map. */
export const INDICATOR_FUNCTIONS: [string, IndicatorFunction][] = INDICATORS.map((definition) => [definition.name, indicatorFunction(definition)]);
