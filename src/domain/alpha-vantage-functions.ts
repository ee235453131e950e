/**
 * Every function Alpha Vantage documents (`/query?function=…`), in one table, with how this service offers it:
 *
 * - store: answered from the price store in Alpha Vantage's shapes (adapters/http/alpha-vantage-gateway.ts),
 *   at no upstream call beyond the store's own refresh;
 * - indicator: a technical indicator, answered from the store at daily, weekly and monthly intervals
 *   (adapters/http/gateway-indicators.ts) and passed through at intraday intervals, or at any interval the
 *   store does not compute;
 * - pass-through: asked of Alpha Vantage with the service's own key, its answer kept for a lifetime that fits
 *   the function and shared by every client and instance (app/market-data/pass-through.ts);
 * - not offered: neither can serve it.
 *
 * And the rules of a passed-through call: which of its parameters are forwarded, the one form it is asked and
 * kept in (so spellings of one request share one upstream call), and how long each kind of answer is kept.
 * Sources: Alpha Vantage's documentation (www.alphavantage.co/documentation) and its official MCP server's
 * tool list (github.com/alphavantage/alpha_vantage_mcp), December 2026.
 */
import { ValidationError } from './errors.js';
import { latestFinalSession, nextSessionClose } from './market-calendar.js';
import { characterCount } from './text.js';

export type FunctionClass = 'store' | 'indicator' | 'pass_through' | 'not_offered';

/** How long a passed-through answer is kept. */
export type Lifetime =
  | { kind: 'minutes'; minutes: number }
  /** Until the next NYSE session's bar is final (market-calendar.ts), at most a day: daily and longer series. */
  | { kind: 'session' }
  /** The series' `interval` (1min … 60min) in minutes; a past `month` is history, kept a day; a daily or longer interval, a session. */
  | { kind: 'intraday' };

export type FunctionGroup =
  | 'Core stock'
  | 'Options'
  | 'Alpha Intelligence'
  | 'Fundamentals'
  | 'Forex'
  | 'Crypto'
  | 'Commodities'
  | 'Economic indicators'
  | 'Indices'
  | 'Congress'
  | 'Technical indicators';

export interface AlphaVantageFunction {
  name: string;
  group: FunctionGroup;
  class: FunctionClass;
  /** How long its passed-through answer is kept (pass-through and indicator). */
  lifetime?: Lifetime;
  /** It answers CSV only, whatever `datatype` says (Alpha Vantage's listings and calendars). */
  csvOnly?: boolean;
  /** Not offered: why, as the refusal says it. */
  reason?: string;
}

const minutes = (count: number): Lifetime => ({ kind: 'minutes', minutes: count });
const A_DAY = minutes(24 * 60);
/** Realtime values (an exchange rate, bulk quotes, an options chain): a minute old at most. */
const REALTIME = minutes(1);
/** News and the day's movers: Alpha Vantage refreshes them through the day. */
const NEWS = minutes(10);
const SESSION: Lifetime = { kind: 'session' };
const INTRADAY: Lifetime = { kind: 'intraday' };

const store = (name: string) => ({ name, class: 'store' as const });
const passed = (name: string, lifetime: Lifetime, csvOnly = false) => ({ name, class: 'pass_through' as const, lifetime, ...(csvOnly && { csvOnly }) });

/** The technical indicators, each a function of its own name. */
const INDICATORS = [
  'SMA', 'EMA', 'WMA', 'DEMA', 'TEMA', 'TRIMA', 'KAMA', 'MAMA', 'VWAP', 'T3', 'MACD', 'MACDEXT', 'STOCH', 'STOCHF', 'RSI',
  'STOCHRSI', 'WILLR', 'ADX', 'ADXR', 'APO', 'PPO', 'MOM', 'BOP', 'CCI', 'CMO', 'ROC', 'ROCR', 'AROON', 'AROONOSC', 'MFI',
  'TRIX', 'ULTOSC', 'DX', 'MINUS_DI', 'PLUS_DI', 'MINUS_DM', 'PLUS_DM', 'BBANDS', 'MIDPOINT', 'MIDPRICE', 'SAR', 'TRANGE',
  'ATR', 'NATR', 'AD', 'ADOSC', 'OBV', 'HT_TRENDLINE', 'HT_SINE', 'HT_TRENDMODE', 'HT_DCPERIOD', 'HT_DCPHASE', 'HT_PHASOR',
];

const GROUPS: Record<FunctionGroup, Omit<AlphaVantageFunction, 'group'>[]> = {
  'Core stock': [
    store('GLOBAL_QUOTE'),
    store('TIME_SERIES_DAILY'),
    store('TIME_SERIES_DAILY_ADJUSTED'),
    store('TIME_SERIES_WEEKLY'),
    store('TIME_SERIES_WEEKLY_ADJUSTED'),
    store('TIME_SERIES_MONTHLY'),
    store('TIME_SERIES_MONTHLY_ADJUSTED'),
    store('SYMBOL_SEARCH'),
    passed('TIME_SERIES_INTRADAY', INTRADAY),
    {
      name: 'TIME_SERIES_INTRADAY_EXTENDED',
      class: 'not_offered',
      reason: 'Alpha Vantage retired it into TIME_SERIES_INTRADAY, whose month parameter (YYYY-MM) gives a past month',
    },
    passed('REALTIME_BULK_QUOTES', REALTIME),
    passed('REALTIME_BULK_BID_ASK_PRICES', REALTIME),
    passed('MARKET_STATUS', REALTIME),
  ],
  Options: [
    passed('REALTIME_OPTIONS', REALTIME),
    passed('REALTIME_OPTIONS_FMV', REALTIME),
    passed('REALTIME_PUT_CALL_RATIO', REALTIME),
    passed('REALTIME_VOLUME_OPEN_INTEREST_RATIO', REALTIME),
    passed('HISTORICAL_OPTIONS', SESSION),
    passed('HISTORICAL_PUT_CALL_RATIO', SESSION),
    passed('HISTORICAL_VOLUME_OPEN_INTEREST_RATIO', SESSION),
  ],
  'Alpha Intelligence': [
    passed('NEWS_SENTIMENT', NEWS),
    passed('TOP_GAINERS_LOSERS', NEWS),
    passed('EARNINGS_CALL_TRANSCRIPT', A_DAY),
    passed('INSIDER_TRANSACTIONS', A_DAY),
    passed('INSTITUTIONAL_HOLDINGS', A_DAY),
    passed('ANALYTICS_FIXED_WINDOW', SESSION),
    passed('ANALYTICS_SLIDING_WINDOW', SESSION),
  ],
  Fundamentals: [
    passed('OVERVIEW', A_DAY),
    passed('ETF_PROFILE', A_DAY),
    passed('COMPANY_LOGO', A_DAY),
    passed('DIVIDENDS', A_DAY),
    passed('SPLITS', A_DAY),
    passed('INCOME_STATEMENT', A_DAY),
    passed('BALANCE_SHEET', A_DAY),
    passed('CASH_FLOW', A_DAY),
    passed('SHARES_OUTSTANDING', A_DAY),
    passed('EARNINGS', A_DAY),
    passed('EARNINGS_ESTIMATES', A_DAY),
    passed('LISTING_STATUS', A_DAY, true),
    passed('EARNINGS_CALENDAR', A_DAY, true),
    passed('IPO_CALENDAR', A_DAY, true),
  ],
  Forex: [
    passed('CURRENCY_EXCHANGE_RATE', REALTIME),
    passed('FX_INTRADAY', INTRADAY),
    passed('FX_DAILY', SESSION),
    passed('FX_WEEKLY', SESSION),
    passed('FX_MONTHLY', SESSION),
  ],
  Crypto: [
    passed('CRYPTO_INTRADAY', INTRADAY),
    passed('DIGITAL_CURRENCY_DAILY', SESSION),
    passed('DIGITAL_CURRENCY_WEEKLY', SESSION),
    passed('DIGITAL_CURRENCY_MONTHLY', SESSION),
  ],
  Commodities: [
    ...['WTI', 'BRENT', 'NATURAL_GAS', 'COPPER', 'ALUMINUM', 'WHEAT', 'CORN', 'COTTON', 'SUGAR', 'COFFEE', 'ALL_COMMODITIES'].map((name) => passed(name, A_DAY)),
    passed('GOLD_SILVER_SPOT', REALTIME),
    passed('GOLD_SILVER_HISTORY', A_DAY),
  ],
  'Economic indicators': [
    'REAL_GDP', 'REAL_GDP_PER_CAPITA', 'TREASURY_YIELD', 'FEDERAL_FUNDS_RATE', 'CPI', 'INFLATION', 'RETAIL_SALES', 'DURABLES', 'UNEMPLOYMENT', 'NONFARM_PAYROLL',
  ].map((name) => passed(name, A_DAY)),
  Indices: [passed('INDEX_DATA', SESSION), passed('INDEX_CATALOG', A_DAY)],
  Congress: [passed('CONGRESS_TRADES', A_DAY), passed('POLITICIAN_METADATA', A_DAY)],
  'Technical indicators': INDICATORS.map((name) => ({ name, class: 'indicator' as const, lifetime: INTRADAY })),
};

/** Every Alpha Vantage function, by name. A name not here is one Alpha Vantage does not have. */
export const ALPHA_VANTAGE_FUNCTIONS: ReadonlyMap<string, AlphaVantageFunction> = new Map(
  (Object.entries(GROUPS) as [FunctionGroup, Omit<AlphaVantageFunction, 'group'>[]][]).flatMap(([group, functions]) =>
    functions.map((f): [string, AlphaVantageFunction] => [f.name, { ...f, group }]),
  ),
);

/**
 * The parameters Alpha Vantage documents, over every function: only these are forwarded. Alpha Vantage ignores
 * a parameter its function does not take, so leaving out the rest changes nothing it reads, while junk
 * (`&x=1`, `&x=2`…) cannot make one request many, each an upstream call. The analytics functions' own are
 * upper case, as documented. A parameter Alpha Vantage adds later is forwarded once added here.
 */
const FORWARDED_PARAMETERS: ReadonlySet<string> = new Set([
  'symbol', 'interval', 'outputsize', 'datatype', 'adjusted', 'extended_hours', 'month', 'entitlement', 'keywords',
  'from_symbol', 'to_symbol', 'from_currency', 'to_currency', 'market',
  'time_period', 'series_type', 'fastlimit', 'slowlimit', 'fastperiod', 'slowperiod', 'signalperiod', 'fastmatype', 'slowmatype',
  'signalmatype', 'fastkperiod', 'slowkperiod', 'slowdperiod', 'fastdperiod', 'slowkmatype', 'slowdmatype', 'fastdmatype', 'matype',
  'timeperiod1', 'timeperiod2', 'timeperiod3', 'nbdevup', 'nbdevdn', 'acceleration', 'maximum',
  'tickers', 'topics', 'time_from', 'time_to', 'sort', 'limit', 'maturity', 'horizon', 'state', 'date', 'quarter', 'from',
  'contract', 'expiration', 'require_greeks', 'bioguide_id',
  'SYMBOLS', 'RANGE', 'INTERVAL', 'OHLC', 'WINDOW_SIZE', 'CALCULATIONS',
]);

/** A call's parameters past this many (its key and function included) are refused, not read: no call needs a third of them. */
export const PASS_THROUGH_MAX_PARAMETERS = 32;
/** The longest forwarded value: 100 comma-separated symbols (bulk quotes) take some 600 characters. */
export const PASS_THROUGH_VALUE_MAX_CHARACTERS = 1000;

/** A call to pass through, in its one form: forwarded parameters only, sorted by name, the key never among them. */
export interface AlphaVantageQuery {
  function: string;
  /** Sorted by name; a name sent twice keeps both values, in the order sent (the analytics' RANGE is a start and an end). */
  parameters: readonly (readonly [string, string])[];
}

/**
 * `sent` (every query parameter, a repeated one once per value) as the call to pass through: the key (`apikey`
 * in any case), the function and parameters Alpha Vantage does not document left out; `datatype` kept only as
 * `csv`, JSON being every function's default. Refused: too many parameters, a forwarded value that is too long
 * or holds a control character or bytes that are not UTF-8 (as the rest of the service refuses them).
 */
export function passThroughQuery(name: string, sent: Iterable<readonly [string, string]>): AlphaVantageQuery {
  const parameters: [string, string][] = [];
  let count = 0;
  for (const [parameter, value] of sent) {
    if (++count > PASS_THROUGH_MAX_PARAMETERS) throw new ValidationError('parameters', `at most ${PASS_THROUGH_MAX_PARAMETERS}`);
    if (!FORWARDED_PARAMETERS.has(parameter)) continue; // `function`, `apikey` and every other spelling of the key among them
    if (parameter === 'datatype' && value !== 'csv') continue;
    if (characterCount(value) > PASS_THROUGH_VALUE_MAX_CHARACTERS) {
      throw new ValidationError(parameter, `must be at most ${PASS_THROUGH_VALUE_MAX_CHARACTERS} characters`);
    }
    // Controls (a NUL, a line break) and unpaired surrogates (bytes that were not UTF-8): never forwarded or kept.
    if (/[\p{Cc}\p{Cs}]/u.test(value)) throw new ValidationError(parameter, 'may not contain control characters or bytes that are not UTF-8');
    parameters.push([parameter, value]);
  }
  // Array.prototype.sort is stable: values of one name keep their order.
  parameters.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { function: name, parameters };
}

/** The call's one text form (`function=…&a=…&b=…`, percent-encoded): what identifies it in the cache. */
export function canonicalQuery(query: AlphaVantageQuery): string {
  const pairs = [['function', query.function] as const, ...query.parameters];
  return pairs.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
}

/** The call's value of `name`: the last one sent. */
export function parameterOf(query: AlphaVantageQuery, name: string): string | undefined {
  return query.parameters.findLast(([parameter]) => parameter === name)?.[1];
}

/** Whether the answer is CSV when it is data (an error is JSON whatever was asked, as Alpha Vantage answers it). */
export function answersCsv(query: AlphaVantageQuery): boolean {
  return parameterOf(query, 'datatype') === 'csv' || ALPHA_VANTAGE_FUNCTIONS.get(query.function)?.csvOnly === true;
}

/**
 * What Alpha Vantage answered a passed-through call, as kept and passed back: its data; its "Error Message" (the
 * call is invalid); its notice that the function is premium; another notice it gave instead of data; or an
 * answer larger than the service keeps. Rate-limit notices are never answers: they are failures (providers.ts).
 */
export type PassThroughAnswer =
  | { kind: 'data' | 'error' | 'premium' | 'notice'; format: 'json' | 'csv'; body: string }
  | { kind: 'too_large' };

export type PassThroughAnswerKind = PassThroughAnswer['kind'];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const INTRADAY_MINUTES: Record<string, number> = { '1min': 1, '5min': 5, '15min': 15, '30min': 30, '60min': 60 };

/** Until when (epoch ms) an answer of `kind` to `query`, fetched at `at`, is served without asking again. */
export function keptUntil(query: AlphaVantageQuery, kind: PassThroughAnswerKind, at: Date): number {
  const lifetime = lifetimeMs(ALPHA_VANTAGE_FUNCTIONS.get(query.function)?.lifetime ?? A_DAY, query, at);
  switch (kind) {
    // The key's plan does not change by the hour.
    case 'premium':
      return at.getTime() + DAY_MS;
    // A notice we do not know: passed back, and asked again within the hour in case it was passing.
    case 'notice':
      return at.getTime() + Math.min(lifetime, HOUR_MS);
    // An invalid call stays invalid as long as its data would stay the same: a client repeating it spends nothing.
    default:
      return at.getTime() + lifetime;
  }
}

function lifetimeMs(lifetime: Lifetime, query: AlphaVantageQuery, at: Date): number {
  switch (lifetime.kind) {
    case 'minutes':
      return lifetime.minutes * MINUTE_MS;
    case 'session':
      // Crypto trades on days NYSE does not: a day at most, so a weekend's days still come.
      return Math.max(MINUTE_MS, Math.min(DAY_MS, nextSessionClose(at).finalAt.getTime() - at.getTime()));
    case 'intraday': {
      const interval = INTRADAY_MINUTES[parameterOf(query, 'interval') ?? ''];
      if (interval === undefined) return lifetimeMs(SESSION, query, at);
      // A month whose every session is final no longer changes.
      const month = parameterOf(query, 'month');
      if (month !== undefined && /^\d{4}-\d{2}$/.test(month) && month < latestFinalSession(at).slice(0, 7)) return DAY_MS;
      return interval * MINUTE_MS;
    }
  }
}
