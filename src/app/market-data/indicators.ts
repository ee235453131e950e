/**
 * A technical indicator of a symbol, computed from its stored daily bars (or
 * the weekly or monthly bars made from them) at no upstream call of its own:
 * the bars come through the quote service's getHistory, as every stored
 * session, refreshed when due like any history.
 *
 * Only what the answer needs is done: the bar fields the indicator reads are
 * parsed (a close-only SMA never parses highs, lows or volumes), and only
 * the values in the asked range are written as text.
 */
import { NotFoundError, symbolNotFound, ValidationError } from '../../domain/errors.js';
import {
  type BarField,
  type Bars,
  computeIndicator,
  type IndicatorDefinition,
  indicatorNamed,
  indicatorText,
  type ParameterValues,
  readParameters,
} from '../../domain/indicators/index.js';
import { type Period, periodOf } from '../../domain/periods.js';
import { isCalendarDate } from '../../domain/quote.js';
import type { StoredBar } from './prices.js';
import type { Interval, QuoteService } from './quotes.js';
import type { CacheState, Requester } from './refresh.js';

export interface IndicatorRequest {
  symbol: string;
  /** Alpha Vantage's function name, any case. */
  name: string;
  interval: Interval;
  /** The indicator's parameters as sent (a query's values); undefined when absent. */
  parameter(name: string): string | undefined;
  /** YYYY-MM-DD, inclusive: which values to give; the indicator is always computed over every stored bar. */
  from?: string;
  to?: string;
}

export interface IndicatorRow {
  /** The bar's date: a session, or a week's or month's last session. */
  date: string;
  /** One per output, in the definition's order, as served (indicatorText). */
  values: string[];
}

export interface ServedIndicator {
  symbol: string;
  definition: IndicatorDefinition;
  interval: Interval;
  parameters: ParameterValues;
  /** The newest bar's date, whether or not it has a value or is in the range. */
  lastRefreshed: string;
  /** Oldest first. */
  rows: IndicatorRow[];
  cache: CacheState;
}

const PERIOD_OF: Record<Exclude<Interval, '1day'>, Period> = { '1week': 'week', '1month': 'month' };

/** The indicator's definition, or the NotFoundError the native route answers 404 with. */
export function indicatorDefinition(name: string): IndicatorDefinition {
  const definition = indicatorNamed(name);
  if (!definition) throw new NotFoundError(`Indicator "${name}" is not served.`);
  return definition;
}

/**
 * The indicator over the symbol's stored bars. Its parameters are checked before any bar is read, so a
 * refused request looks nothing up; the bars cost what any history costs (one unit, the daily series' refresh).
 */
export async function getIndicator(quotes: Pick<QuoteService, 'getHistory'>, request: IndicatorRequest, requester: Requester): Promise<ServedIndicator> {
  const definition = indicatorDefinition(request.name);
  const parameters = readParameters(definition, request.parameter);
  checkRange(request);
  const history = await quotes.getHistory(request.symbol, { sessions: 'all' }, requester);
  const bars = history.bars;
  if (!bars[0]) throw symbolNotFound(history.symbol);
  const dates: string[] = [];
  const fields = new Set(definition.reads(parameters));
  const parsed: Bars = {};
  if (request.interval === '1day') {
    for (const bar of bars) dates.push(bar.date);
    for (const field of fields) parsed[field] = Float64Array.from(bars, (bar) => Number(bar[field]));
  } else {
    Object.assign(parsed, inPeriods(bars, PERIOD_OF[request.interval], fields, dates));
  }
  const { begin, lines } = computeIndicator(definition, parsed, parameters);
  const rows: IndicatorRow[] = [];
  const count = lines[0]?.length ?? 0;
  for (let i = 0; i < count; i++) {
    const date = dates[begin + i]!;
    if ((request.from !== undefined && date < request.from) || (request.to !== undefined && date > request.to)) continue;
    rows.push({ date, values: lines.map((line) => indicatorText(line[i]!)) });
  }
  return {
    symbol: history.symbol,
    definition,
    interval: request.interval,
    parameters,
    lastRefreshed: dates[dates.length - 1] ?? '',
    rows,
    cache: history.cache,
  };
}

/**
 * Weekly or monthly bars of the fields read, as domain/periods.ts makes them (first open, highest high, lowest
 * low, last close, volumes summed, dated the last session), in float64: the highest of parsed prices is the
 * parsed highest price, so nothing is lost against periodBar's decimal comparison.
 */
function inPeriods(bars: readonly StoredBar[], period: Period, fields: Set<BarField>, dates: string[]): Bars {
  const columns: Partial<Record<BarField, number[]>> = {};
  for (const field of fields) columns[field] = [];
  let current: string | undefined;
  for (const bar of bars) {
    const key = periodOf(bar.date, period);
    const last = dates.length - 1;
    if (key !== current) {
      current = key;
      dates.push(bar.date);
      for (const field of fields) columns[field]!.push(Number(bar[field]));
      continue;
    }
    dates[last] = bar.date;
    for (const field of fields) {
      const column = columns[field]!;
      const value = Number(bar[field]);
      if (field === 'high') column[last] = Math.max(column[last]!, value);
      else if (field === 'low') column[last] = Math.min(column[last]!, value);
      else if (field === 'close') column[last] = value;
      else if (field === 'volume') column[last]! += value;
    }
  }
  return Object.fromEntries(Object.entries(columns).map(([field, values]) => [field, Float64Array.from(values)]));
}

function checkRange({ from, to }: { from?: string; to?: string }): void {
  for (const [field, value] of [['from', from], ['to', to]] as const) {
    if (value !== undefined && !isCalendarDate(value)) throw new ValidationError(field, 'must be a date as YYYY-MM-DD');
  }
  if (from !== undefined && to !== undefined && from > to) throw new ValidationError('from', 'must not be after to');
}
