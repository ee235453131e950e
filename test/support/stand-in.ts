import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DailyBar } from '../../src/domain/quote.js';

/**
 * A local stand-in for the market-data vendors: it answers Alpha Vantage's
 * `/query?function=TIME_SERIES_DAILY|TIME_SERIES_WEEKLY(_ADJUSTED)|TIME_SERIES_MONTHLY(_ADJUSTED)|SYMBOL_SEARCH|SPLITS|DIVIDENDS` and Twelve Data's
 * `/time_series`, `/symbol_search`, `/splits` and `/dividends` in their documented
 * formats, error shapes included. Any other Alpha Vantage function is a call passed
 * through (Upstream.passThroughCalls): OVERVIEW, TIME_SERIES_INTRADAY, FX_DAILY,
 * CURRENCY_EXCHANGE_RATE and REAL_GDP answer in their documented formats (CSV too),
 * REALTIME_BULK_QUOTES its premium notice, the rest "does not exist". No test reaches
 * the internet.
 */
export type Bar = DailyBar;

/**
 * The optional capabilities of the market-data port, each one endpoint per vendor (see Upstream.setFor);
 * 'weekly' and 'monthly' are Alpha Vantage's alone (its TIME_SERIES_WEEKLY and _MONTHLY, adjusted or not).
 */
export type Capability = 'search' | 'splits' | 'dividends' | 'weekly' | 'monthly';
type VendorEndpoint = 'daily' | Capability;
/** A function the service does not serve from its store, passed through to Alpha Vantage. */
type Endpoint = VendorEndpoint | 'pass-through';

/**
 * One search match, rendered in each vendor's shape. Alpha Vantage shows region, marketOpen,
 * marketClose, timezone and matchScore; Twelve Data exchange, micCode, timezone (its
 * exchange_timezone) and region (its country). Left out, each field takes a typical value.
 */
export interface StandInMatch {
  symbol: string;
  name: string;
  type?: string;
  currency?: string;
  region?: string;
  exchange?: string;
  micCode?: string;
  timezone?: string;
  marketOpen?: string;
  marketClose?: string;
  matchScore?: string;
}

/** `newShares` for `oldShares` on `date`: Apple's 2020 split is { newShares: 4, oldShares: 1 }, a 1-for-10 reverse split { newShares: 1, oldShares: 10 }. */
export interface StandInSplit {
  date: string;
  newShares: number;
  oldShares: number;
}

/** A cash dividend; the dates Alpha Vantage also gives are "None" there when left out. */
export interface StandInDividend {
  exDate: string;
  amount: string;
  declarationDate?: string;
  recordDate?: string;
  paymentDate?: string;
}

/** One week's or month's bar, dated its last session, with Alpha Vantage's adjusted close and the dividends that went ex in it. */
export interface StandInPeriodBar extends Bar {
  adjustedClose: string;
  dividend: string;
}

export type Behavior =
  | { kind: 'bars'; bars: Bar[] }
  // Newest first, as given: the whole series, as Alpha Vantage's weekly and monthly series have no compact form.
  | { kind: 'periods'; bars: StandInPeriodBar[] }
  | { kind: 'matches'; matches: StandInMatch[] }
  | { kind: 'splits'; splits: StandInSplit[] }
  | { kind: 'dividends'; dividends: StandInDividend[] }
  // `body` as is, HTTP 200: for the shapes no other kind gives (a contradictory split, a malformed date).
  | { kind: 'json'; body: unknown }
  | { kind: 'unknown' }
  | { kind: 'rate_limited' } // per-minute/burst limit notice
  | { kind: 'daily_limit' } // Alpha Vantage's 25-a-day Information
  | { kind: 'burst' } // Alpha Vantage's one-a-second Information (it names the daily limit too)
  | { kind: 'premium' }
  | { kind: 'bad_key' }
  | { kind: 'quotes_key' } // a bad-key notice that repeats the key it received, as Alpha Vantage has done
  | { kind: 'http_500' }
  | { kind: 'html' }
  | { kind: 'malformed_json' }
  | { kind: 'no_series' } // a body without its data (series, bestMatches, data, splits, dividends)
  | { kind: 'slow'; ms: number }
  // Answers as `then` only when the test releases it (Upstream.release): a vendor call stays in flight for
  // exactly as long as the test wants, so tests assert the order calls arrive in, never how long they took.
  | { kind: 'held'; then: Behavior }
  // A passed-through function's documented answer (the default; see `documented`).
  | { kind: 'documented' };

export type Vendor = 'alphavantage' | 'twelvedata';

/** The seed's IBM: 2022-07-29 closes at 130.7900 after 129.2200 — a variation of 1.57. */
/** `count` weekday sessions ending on `last`, newest first, as the vendors give them. */
export function weekdaySessions(last: string, count: number): Bar[] {
  const bars: Bar[] = [];
  for (const day = new Date(`${last}T00:00:00Z`); bars.length < count; day.setUTCDate(day.getUTCDate() - 1)) {
    if (day.getUTCDay() === 0 || day.getUTCDay() === 6) continue;
    const cents = String(1000 + (bars.length % 500)).padStart(4, '0');
    bars.push({ date: day.toISOString().slice(0, 10), open: `1${cents}.00`, high: `1${cents}.50`, low: `1${cents}.00`, close: `1${cents}.25`, volume: 1000 + bars.length });
  }
  return bars;
}

export const IBM_BARS: Bar[] = [
  { date: '2022-07-29', open: '129.5200', high: '131.0000', low: '129.3100', close: '130.7900', volume: 4236283 },
  { date: '2022-07-28', open: '128.2000', high: '129.5500', low: '127.6600', close: '129.2200', volume: 3895133 },
  { date: '2022-07-27', open: '128.0300', high: '129.0100', low: '127.3100', close: '128.0800', volume: 3544716 },
];

/** The original service's documented answer for that data, field for field. */
export const SEED_QUOTE = {
  last_refreshed: '2022-07-29',
  close_value: '130.7900',
  open_value: '129.5200',
  high_value: '131.0000',
  low_value: '129.3100',
  variation_between_last_two_days: 1.57,
};

export const avRateNote =
  'Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day.';
/** Alpha Vantage's answer to calls faster than its free key allows (it documents no per-minute limit). */
export const avBurstLimit =
  'Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly unlock all premium endpoints';
export const avDailyLimit =
  'Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits.';

/** One call as the stand-in received it. */
interface Call {
  vendor: Vendor;
  endpoint: Endpoint;
  /** The symbol asked, the keywords of a search, or a passed-through call's function. */
  subject: string;
  key: string;
  params: URLSearchParams;
}

/** A passed-through call as Alpha Vantage received it: its function, its parameters but the key, and the key. */
export interface PassThroughCall {
  function: string;
  /** In the order received, `function` and `apikey` left out. */
  params: [string, string][];
  key: string;
}

const AV_FUNCTIONS: Record<VendorEndpoint, string> = {
  daily: 'TIME_SERIES_DAILY',
  search: 'SYMBOL_SEARCH',
  splits: 'SPLITS',
  dividends: 'DIVIDENDS',
  weekly: 'TIME_SERIES_WEEKLY_ADJUSTED',
  monthly: 'TIME_SERIES_MONTHLY_ADJUSTED',
};
/** The same series without adjusted closes and dividends: the same behavior answers both. */
const AV_UNADJUSTED: Partial<Record<VendorEndpoint, string>> = { weekly: 'TIME_SERIES_WEEKLY', monthly: 'TIME_SERIES_MONTHLY' };
/** Alpha Vantage's words for each series: [its key, its Meta Data's Information], adjusted or not (its documentation). */
const AV_PERIOD_SERIES = {
  weekly: { adjusted: ['Weekly Adjusted Time Series', 'Weekly Adjusted Prices and Volumes'], unadjusted: ['Weekly Time Series', 'Weekly Prices (open, high, low, close) and Volumes'] },
  monthly: { adjusted: ['Monthly Adjusted Time Series', 'Monthly Adjusted Prices and Volumes'], unadjusted: ['Monthly Time Series', 'Monthly Prices (open, high, low, close) and Volumes'] },
} as const;
// Twelve Data's weekly and monthly bars are its /time_series with another interval: not served, as the service never asks them.
const TD_PATHS: Partial<Record<VendorEndpoint, string>> = { daily: 'time_series', search: 'symbol_search', splits: 'splits', dividends: 'dividends' };
/** The function a call asked, as it named it (an unadjusted weekly series is answered by the adjusted one's behavior). */
const functionOf = (call: Call) => (call.endpoint === 'pass-through' ? call.subject : (call.params.get('function') ?? AV_FUNCTIONS[call.endpoint]));

const AV_COMPACT = 100;
const TD_DEFAULT_OUTPUTSIZE = 30;
const TD_MAX_OUTPUTSIZE = 5000;

const json = (res: ServerResponse, body: unknown, status = 200) =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

function alphaVantage(behavior: Behavior, call: Call, res: ServerResponse): void {
  const { endpoint, subject: symbol, key } = call;
  switch (behavior.kind) {
    case 'bars': {
      // outputsize=compact (the default) is the latest 100 data points; full is premium on a free key (its docs).
      if (call.params.get('outputsize') === 'full') return alphaVantage({ kind: 'premium' }, call, res);
      const series = Object.fromEntries(
        behavior.bars.slice(0, AV_COMPACT).map((b) => [b.date, { '1. open': b.open, '2. high': b.high, '3. low': b.low, '4. close': b.close, '5. volume': String(b.volume) }]),
      );
      return json(res, {
        'Meta Data': { '1. Information': 'Daily Prices (open, high, low, close) and Volumes', '2. Symbol': symbol, '3. Last Refreshed': behavior.bars[0]?.date, '4. Output Size': 'Compact', '5. Time Zone': 'US/Eastern' },
        'Time Series (Daily)': series,
      });
    }
    case 'periods':
      return json(res, avPeriodSeries(behavior.bars, call));
    case 'matches':
      return json(res, { bestMatches: behavior.matches.map(avMatch) });
    case 'splits':
      // split_factor is new shares per old, with four decimals: "4.0000", "0.1000".
      return json(res, { symbol, data: behavior.splits.map((s) => ({ effective_date: s.date, split_factor: (s.newShares / s.oldShares).toFixed(4) })) });
    case 'dividends':
      return json(res, {
        symbol,
        data: behavior.dividends.map((d) => ({
          ex_dividend_date: d.exDate,
          declaration_date: d.declarationDate ?? 'None',
          record_date: d.recordDate ?? 'None',
          payment_date: d.paymentDate ?? 'None',
          amount: d.amount,
        })),
      });
    case 'unknown':
      return json(res, avInvalidCall(functionOf(call)));
    case 'documented':
      return documented(call, res);
    case 'rate_limited':
      return json(res, { Note: avRateNote });
    case 'daily_limit':
      return json(res, { Information: avDailyLimit });
    case 'burst':
      return json(res, { Information: avBurstLimit });
    case 'premium':
      return json(res, { Information: avPremiumNotice });
    case 'bad_key':
      return json(res, { Information: 'the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key).' });
    case 'quotes_key':
      return json(res, { Information: `The API key ${key} is invalid. Please visit https://www.alphavantage.co/query?function=${functionOf(call)}&apikey=${encodeURIComponent(key)} to check it.` });
    case 'no_series':
      return json(res, endpoint === 'daily' || endpoint === 'weekly' || endpoint === 'monthly' ? { 'Meta Data': { '2. Symbol': symbol } } : endpoint === 'search' || endpoint === 'pass-through' ? {} : { symbol });
    default:
      return common(behavior, res);
  }
}

/** TIME_SERIES_WEEKLY(_ADJUSTED) or TIME_SERIES_MONTHLY(_ADJUSTED) as its documentation shows them, every period given. */
function avPeriodSeries(bars: StandInPeriodBar[], call: Call) {
  const adjusted = call.params.get('function') === AV_FUNCTIONS[call.endpoint as 'weekly' | 'monthly'];
  const [key, information] = AV_PERIOD_SERIES[call.endpoint as 'weekly' | 'monthly'][adjusted ? 'adjusted' : 'unadjusted'];
  const values = (b: StandInPeriodBar) =>
    adjusted
      ? { '1. open': b.open, '2. high': b.high, '3. low': b.low, '4. close': b.close, '5. adjusted close': b.adjustedClose, '6. volume': String(b.volume), '7. dividend amount': b.dividend }
      : { '1. open': b.open, '2. high': b.high, '3. low': b.low, '4. close': b.close, '5. volume': String(b.volume) };
  return {
    'Meta Data': { '1. Information': information, '2. Symbol': call.subject, '3. Last Refreshed': bars[0]?.date, '4. Time Zone': 'US/Eastern' },
    [key]: Object.fromEntries(bars.map((b) => [b.date, values(b)])),
  };
}

function avMatch(m: StandInMatch) {
  return {
    '1. symbol': m.symbol,
    '2. name': m.name,
    '3. type': m.type ?? 'Equity',
    '4. region': m.region ?? 'United States',
    '5. marketOpen': m.marketOpen ?? '09:30',
    '6. marketClose': m.marketClose ?? '16:00',
    '7. timezone': m.timezone ?? 'UTC-04',
    '8. currency': m.currency ?? 'USD',
    '9. matchScore': m.matchScore ?? '1.0000',
  };
}

const avInvalidCall = (name: string) => ({
  'Error Message': `Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for ${name}.`,
});
export const avPremiumNotice =
  'Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints';

const CURRENCY_NAMES: Record<string, string> = { USD: 'United States Dollar', EUR: 'Euro', JPY: 'Japanese Yen', GBP: 'British Pound Sterling', BTC: 'Bitcoin' };
const INTRADAY_INTERVALS = ['1min', '5min', '15min', '30min', '60min'];

/** The documented answer's bars (newest first) of TIME_SERIES_INTRADAY for IBM's last minutes of 2022-07-29. */
const INTRADAY_BARS = [
  ['2022-07-29 19:55:00', '130.7900', '130.8000', '130.7500', '130.7900', '1051'],
  ['2022-07-29 19:50:00', '130.7500', '130.7900', '130.7500', '130.7900', '310'],
];
const FX_BARS = [
  ['2022-07-29', '1.0189', '1.0254', '1.0145', '1.0222'],
  ['2022-07-28', '1.0197', '1.0234', '1.0114', '1.0193'],
];
const GDP_ROWS = [
  ['2021-01-01', '19609.812'],
  ['2020-01-01', '18509.143'],
];

const text = (res: ServerResponse, body: string) => void res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(body);
const csvOf = (header: string, rows: string[][]) => `${header}\r\n${rows.map((row) => row.join(',')).join('\r\n')}\r\n`;

/**
 * What Alpha Vantage documents for the passed-through functions the tests use, JSON or (datatype=csv) CSV; a
 * required parameter missing or invalid is its "Error Message" (JSON whatever was asked, as it answers errors).
 */
function documented(call: Call, res: ServerResponse): void {
  const name = call.subject;
  const p = call.params;
  const csv = p.get('datatype') === 'csv';
  const missing = (...names: string[]) => names.some((n) => !p.get(n));
  switch (name) {
    case 'OVERVIEW': {
      if (missing('symbol')) return json(res, avInvalidCall(name));
      const symbol = p.get('symbol')!;
      return json(res, {
        Symbol: symbol, AssetType: 'Common Stock', Name: 'International Business Machines', CIK: '51143', Exchange: 'NYSE', Currency: 'USD',
        Country: 'USA', Sector: 'TECHNOLOGY', FiscalYearEnd: 'December', LatestQuarter: '2022-06-30', MarketCapitalization: '118116057000',
        PERatio: '22.33', DividendYield: '0.0498',
      });
    }
    case 'TIME_SERIES_INTRADAY': {
      const interval = p.get('interval') ?? '';
      if (missing('symbol') || !INTRADAY_INTERVALS.includes(interval)) return json(res, avInvalidCall(name));
      if (csv) return text(res, csvOf('timestamp,open,high,low,close,volume', INTRADAY_BARS));
      return json(res, {
        'Meta Data': {
          '1. Information': `Intraday (${interval}) open, high, low, close prices and volume`, '2. Symbol': p.get('symbol'), '3. Last Refreshed': INTRADAY_BARS[0]![0],
          '4. Interval': interval, '5. Output Size': 'Compact', '6. Time Zone': 'US/Eastern',
        },
        [`Time Series (${interval})`]: Object.fromEntries(
          INTRADAY_BARS.map(([at, o, h, l, c, v]) => [at, { '1. open': o, '2. high': h, '3. low': l, '4. close': c, '5. volume': v }]),
        ),
      });
    }
    case 'FX_DAILY': {
      if (missing('from_symbol', 'to_symbol')) return json(res, avInvalidCall(name));
      if (csv) return text(res, csvOf('timestamp,open,high,low,close', FX_BARS));
      return json(res, {
        'Meta Data': {
          '1. Information': 'Forex Daily Prices (open, high, low, close)', '2. From Symbol': p.get('from_symbol'), '3. To Symbol': p.get('to_symbol'),
          '4. Output Size': 'Compact', '5. Last Refreshed': `${FX_BARS[0]![0]} 21:55:00`, '6. Time Zone': 'UTC',
        },
        'Time Series FX (Daily)': Object.fromEntries(FX_BARS.map(([day, o, h, l, c]) => [day, { '1. open': o, '2. high': h, '3. low': l, '4. close': c }])),
      });
    }
    case 'CURRENCY_EXCHANGE_RATE': {
      const [from, to] = [p.get('from_currency') ?? '', p.get('to_currency') ?? ''];
      if (!CURRENCY_NAMES[from] || !CURRENCY_NAMES[to]) return json(res, avInvalidCall(name));
      return json(res, {
        'Realtime Currency Exchange Rate': {
          '1. From_Currency Code': from, '2. From_Currency Name': CURRENCY_NAMES[from], '3. To_Currency Code': to, '4. To_Currency Name': CURRENCY_NAMES[to],
          '5. Exchange Rate': '0.97890000', '6. Last Refreshed': '2022-07-29 21:55:01', '7. Time Zone': 'UTC', '8. Bid Price': '0.97886000', '9. Ask Price': '0.97894000',
        },
      });
    }
    case 'REAL_GDP': {
      if (csv) return text(res, csvOf('timestamp,value', GDP_ROWS));
      return json(res, { name: 'Real Gross Domestic Product', interval: p.get('interval') ?? 'annual', unit: 'billions of dollars', data: GDP_ROWS.map(([date, value]) => ({ date, value })) });
    }
    case 'SMA': {
      // An intraday SMA, as the gateway passes one through (the store computes daily, weekly and monthly ones).
      const interval = p.get('interval') ?? '';
      if (missing('symbol', 'time_period', 'series_type') || !INTRADAY_INTERVALS.includes(interval)) return json(res, avInvalidCall(name));
      const minutes = INTRADAY_BARS.map(([at, , , , close]) => [at!.slice(0, 16), close!]);
      if (csv) return text(res, csvOf('time,SMA', minutes));
      return json(res, {
        'Meta Data': {
          '1: Symbol': p.get('symbol'), '2: Indicator': 'Simple Moving Average (SMA)', '3: Last Refreshed': minutes[0]![0],
          '4: Interval': interval, '5: Time Period': Number(p.get('time_period')), '6: Series Type': p.get('series_type'), '7: Time Zone': 'US/Eastern',
        },
        'Technical Analysis: SMA': Object.fromEntries(minutes.map(([at, close]) => [at, { SMA: close }])),
      });
    }
    case 'REALTIME_BULK_QUOTES':
      return json(res, { Information: avPremiumNotice });
    default:
      return json(res, { 'Error Message': `This API function (${name}) does not exist.` });
  }
}

function twelveData(behavior: Behavior, call: Call, res: ServerResponse): void {
  const { endpoint, subject: symbol, key } = call;
  const error = (code: number, message: string) => json(res, { code, message, status: 'error', meta: {} });
  const meta = { symbol, name: symbol, currency: 'USD', exchange: 'NASDAQ', mic_code: 'XNAS', exchange_timezone: 'America/New_York' };
  // /splits and /dividends answer only the latest event unless asked for range=full (their `range` defaults to "last").
  const full = call.params.get('range') === 'full';
  switch (behavior.kind) {
    case 'bars': {
      // outputsize: 1 to 5,000 data points, 30 when not given (its docs).
      const outputsize = Number(call.params.get('outputsize') ?? TD_DEFAULT_OUTPUTSIZE);
      if (!Number.isInteger(outputsize) || outputsize < 1 || outputsize > TD_MAX_OUTPUTSIZE) return error(400, '**outputsize** should be an integer from 1 to 5000.');
      return json(res, {
        meta: { symbol, interval: '1day', currency: 'USD', exchange_timezone: 'America/New_York', exchange: 'NYSE', type: 'Common Stock' },
        values: behavior.bars.slice(0, outputsize).map((b) => ({ datetime: b.date, open: b.open, high: b.high, low: b.low, close: b.close, volume: String(b.volume) })),
        status: 'ok',
      });
    }
    case 'matches':
      return json(res, { data: behavior.matches.map(tdMatch), status: 'ok' });
    case 'splits':
      // The docs' own example: Apple's 4-for-1 is ratio 0.25, from_factor 4, to_factor 1.
      return json(res, {
        meta,
        splits: (full ? behavior.splits : latest(behavior.splits, (s) => s.date)).map((s) => ({
          date: s.date,
          description: `${s.newShares}-for-${s.oldShares} split`,
          ratio: s.oldShares / s.newShares,
          from_factor: s.newShares,
          to_factor: s.oldShares,
        })),
      });
    case 'dividends':
      // Amounts are JSON numbers here.
      return json(res, { meta, dividends: (full ? behavior.dividends : latest(behavior.dividends, (d) => d.exDate)).map((d) => ({ ex_date: d.exDate, amount: Number(d.amount) })) });
    case 'unknown':
      return error(400, `**symbol** not found: ${symbol}. Please specify it correctly according to API Documentation.`);
    case 'rate_limited':
    case 'daily_limit':
    case 'burst':
      return error(429, 'You have run out of API credits for the current minute. 9 API credits were used, with the current limit being 8.');
    case 'premium':
      // (Twelve Data is never passed a call through: its endpoints are all the stand-in's own.)
      return error(403, `/${TD_PATHS[endpoint as VendorEndpoint]} is available exclusively with pro or enterprise plans.`);
    case 'bad_key':
      return error(401, '**apikey** parameter is incorrect or not specified.');
    case 'quotes_key':
      return error(401, `**apikey** ${key} is incorrect.`);
    case 'no_series':
      return json(res, endpoint === 'search' ? { status: 'ok' } : { meta: { symbol }, status: 'ok' });
    default:
      return common(behavior, res);
  }
}

function latest<T>(events: T[], dateOf: (event: T) => string): T[] {
  return [...events].sort((a, b) => (dateOf(a) < dateOf(b) ? 1 : -1)).slice(0, 1);
}

function tdMatch(m: StandInMatch) {
  return {
    symbol: m.symbol,
    instrument_name: m.name,
    exchange: m.exchange ?? 'NASDAQ',
    mic_code: m.micCode ?? 'XNAS',
    exchange_timezone: m.timezone ?? 'America/New_York',
    instrument_type: m.type ?? 'Common Stock',
    country: m.region ?? 'United States',
    currency: m.currency ?? 'USD',
  };
}

function common(behavior: Behavior, res: ServerResponse): void {
  switch (behavior.kind) {
    case 'json':
      return json(res, behavior.body);
    case 'http_500':
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      return;
    case 'html':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>');
      return;
    case 'malformed_json':
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"Meta Data": {');
      return;
    default:
      throw new Error(`unhandled behavior ${behavior.kind}`);
  }
}

/** A vendor's quota on the key: past it, the vendor answers its own rate-limit error instead of data. */
export interface Quota {
  perDay?: number;
  perMinute?: number;
}

export interface Upstream {
  url: string;
  /** Symbols whose daily series was asked of each vendor, in order. */
  calls: Record<Vendor, string[]>;
  /** The `outputsize` of each of those calls, as sent ('' when none was). */
  outputSizes: Record<Vendor, string[]>;
  /** What each vendor was asked of each capability, in order: the keywords of a search, the symbol of splits and dividends. */
  capabilityCalls: Record<Vendor, Record<Capability, string[]>>;
  /** Keys each vendor received, on every endpoint. */
  keys: Record<Vendor, string[]>;
  /** How the vendor answers for `symbol`'s daily series (unset: 'unknown'). */
  set(vendor: Vendor, symbol: string, behavior: Behavior): void;
  /**
   * How the vendor answers a capability: a search for `subject` (keywords, any case; unset: no
   * matches) with 'matches', `subject`'s splits or dividends (unset: 'unknown') with 'splits'
   * or 'dividends', its weekly or monthly series (unset: 'unknown') with 'periods'; any error
   * kind, 'held', 'slow' or 'json' on any of them.
   */
  setFor(vendor: Vendor, capability: Capability, subject: string, behavior: Behavior): void;
  /** Resolves once `count` calls in all have reached the vendor. */
  callsReached(vendor: Vendor, count: number): Promise<void>;
  /** Alpha Vantage functions other than the store's, as passed through to it, in order. */
  passThroughCalls: PassThroughCall[];
  /** How Alpha Vantage answers a passed-through function, whatever its parameters (unset: 'documented'); held answers are released by function name. */
  setPassThrough(name: string, behavior: Behavior): void;
  /** Resolves once `count` passed-through calls in all have reached Alpha Vantage. */
  passThroughReached(count: number): Promise<void>;
  /** Lets the oldest held answer (of `symbol`, if given) go; throws when none is held. */
  release(vendor: Vendor, symbol?: string): void;
  /** How many answers are held now. */
  heldCount(vendor: Vendor): number;
  /** Counts the vendor's calls from now on, by day (from 00:00 UTC) and calendar minute of `clock`. */
  setQuota(vendor: Vendor, quota: Quota): void;
  /** The stand-in's clock, for its quota windows; tests move it with the service's. */
  clock: () => Date;
  close(): Promise<void>;
}

/**
 * What each vendor answers past its quota: Alpha Vantage an `Information`
 * notice with HTTP 200; Twelve Data its error object with code 429 (its
 * per-minute message is documented; the daily one is worded the same way).
 */
function quotaAnswer(vendor: Vendor, window: 'day' | 'minute', res: ServerResponse): void {
  if (vendor === 'alphavantage') return json(res, { Information: window === 'day' ? avDailyLimit : avBurstLimit });
  const message =
    window === 'day'
      ? 'You have run out of API credits for the day. 801 API credits were used, with the current limit being 800. Wait for the next day or consider switching to a higher tier plan at https://twelvedata.com/pricing'
      : 'You have run out of API credits for the current minute. 9 API credits were used, with the current limit being 8. Wait for the next minute or consider switching to a higher tier plan at https://twelvedata.com/pricing';
  return json(res, { code: 429, message, status: 'error' });
}

interface HeldAnswer {
  vendor: Vendor;
  /** The symbol, or the keywords of a search. */
  symbol: string;
  answer: () => void;
}

/** Which vendor endpoint the request is, if it is one the stand-in serves. */
function route(url: URL, prefix: string, key: string): Call | undefined {
  const endpointOf = (names: Partial<Record<VendorEndpoint, string>>, name: string | null) =>
    (Object.keys(names) as VendorEndpoint[]).find((endpoint) => names[endpoint] === name);
  const params = url.searchParams;
  if (url.pathname === `${prefix}/query`) {
    const name = params.get('function');
    const endpoint = endpointOf(AV_FUNCTIONS, name) ?? endpointOf(AV_UNADJUSTED, name);
    // Any other function is a call the service passes through; its subject is the function.
    if (!endpoint) return name ? { vendor: 'alphavantage', endpoint: 'pass-through', subject: name, key, params } : undefined;
    const subject = params.get(endpoint === 'search' ? 'keywords' : 'symbol') ?? '';
    return { vendor: 'alphavantage', endpoint, subject, key, params };
  }
  if (!url.pathname.startsWith(`${prefix}/`)) return undefined;
  const endpoint = endpointOf(TD_PATHS, url.pathname.slice(prefix.length + 1));
  if (!endpoint || (endpoint === 'daily' && params.get('interval') !== '1day')) return undefined;
  return { vendor: 'twelvedata', endpoint, subject: params.get('symbol') ?? '', key, params };
}

/** Where a behavior is kept: keywords in any case, as the vendors search them. */
function behaviorKey(vendor: Vendor, endpoint: Endpoint, subject: string): string {
  return `${vendor}:${endpoint}:${endpoint === 'search' ? subject.toUpperCase() : subject}`;
}

function defaultBehavior(endpoint: Endpoint): Behavior {
  if (endpoint === 'pass-through') return { kind: 'documented' };
  return endpoint === 'search' ? { kind: 'matches', matches: [] } : { kind: 'unknown' };
}

/** `prefix`: where the vendors are mounted, as behind a proxy or gateway (`/av-proxy`); requests outside it are 404. */
export async function startUpstream(options: { prefix?: string } = {}): Promise<Upstream> {
  const prefix = options.prefix ?? '';
  const behaviors = new Map<string, Behavior>();
  const calls: Record<Vendor, string[]> = { alphavantage: [], twelvedata: [] };
  const outputSizes: Record<Vendor, string[]> = { alphavantage: [], twelvedata: [] };
  const capabilityCalls: Record<Vendor, Record<Capability, string[]>> = {
    alphavantage: { search: [], splits: [], dividends: [], weekly: [], monthly: [] },
    twelvedata: { search: [], splits: [], dividends: [], weekly: [], monthly: [] },
  };
  const keys: Record<Vendor, string[]> = { alphavantage: [], twelvedata: [] };
  const passThroughCalls: PassThroughCall[] = [];
  const held: HeldAnswer[] = [];
  const quotas = new Map<Vendor, { quota: Quota; counted: Map<string, number> }>();
  const waitingForCalls: { reached: () => boolean; resolve: () => void }[] = [];
  const waitFor = (reached: () => boolean) => (reached() ? Promise.resolve() : new Promise<void>((resolve) => waitingForCalls.push({ reached, resolve })));

  /** Counts the call in the vendor's windows; the window whose quota it exceeds, if any. */
  function overQuota(vendor: Vendor): 'day' | 'minute' | undefined {
    const entry = quotas.get(vendor);
    if (!entry) return undefined;
    const iso = upstream.clock().toISOString();
    const windows = { day: `day:${iso.slice(0, 10)}`, minute: `minute:${iso.slice(0, 16)}` };
    let over: 'day' | 'minute' | undefined;
    for (const window of ['day', 'minute'] as const) {
      const count = (entry.counted.get(windows[window]) ?? 0) + 1;
      entry.counted.set(windows[window], count);
      const limit = window === 'day' ? entry.quota.perDay : entry.quota.perMinute;
      if (limit !== undefined && count > limit) over ??= window;
    }
    return over;
  }

  function callArrived(): void {
    for (const waiter of [...waitingForCalls]) {
      if (!waiter.reached()) continue;
      waitingForCalls.splice(waitingForCalls.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  function answer(call: Call, behavior: Behavior, res: ServerResponse): void {
    const { vendor, subject: symbol } = call;
    if (behavior.kind === 'slow') {
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), behavior.ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (behavior.kind === 'held') {
      const entry: HeldAnswer = { vendor, symbol, answer: () => answer(call, behavior.then, res) };
      held.push(entry);
      // A call the service gave up on (timeout, shutdown) is no longer held.
      res.on('close', () => {
        if (held.includes(entry)) held.splice(held.indexOf(entry), 1);
      });
      return;
    }
    (vendor === 'alphavantage' ? alphaVantage : twelveData)(behavior, call, res);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const call = route(url, prefix, url.searchParams.get('apikey') ?? '');
    if (!call) return void res.writeHead(404).end('not a vendor endpoint');
    const { vendor, endpoint, subject } = call;
    if (endpoint === 'pass-through') {
      const params = [...call.params].filter(([name]) => name !== 'function' && name !== 'apikey');
      passThroughCalls.push({ function: subject, params, key: call.key });
    } else {
      (endpoint === 'daily' ? calls[vendor] : capabilityCalls[vendor][endpoint]).push(subject);
    }
    if (endpoint === 'daily') outputSizes[vendor].push(call.params.get('outputsize') ?? '');
    keys[vendor].push(call.key);
    const over = overQuota(vendor);
    if (over) {
      quotaAnswer(vendor, over, res);
    } else {
      answer(call, behaviors.get(behaviorKey(vendor, endpoint, subject)) ?? defaultBehavior(endpoint), res);
    }
    callArrived();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const upstream: Upstream = {
    url: `http://127.0.0.1:${port}`,
    calls,
    outputSizes,
    capabilityCalls,
    keys,
    set: (vendor, symbol, behavior) => behaviors.set(behaviorKey(vendor, 'daily', symbol), behavior),
    setFor: (vendor, capability, subject, behavior) => behaviors.set(behaviorKey(vendor, capability, subject), behavior),
    callsReached: (vendor, count) => waitFor(() => calls[vendor].length >= count),
    passThroughCalls,
    setPassThrough: (name, behavior) => behaviors.set(behaviorKey('alphavantage', 'pass-through', name), behavior),
    passThroughReached: (count) => waitFor(() => passThroughCalls.length >= count),
    release(vendor, symbol) {
      const index = held.findIndex((h) => h.vendor === vendor && (symbol === undefined || h.symbol === symbol));
      if (index < 0) throw new Error(`no ${vendor} answer${symbol ? ` for ${symbol}` : ''} is held`);
      held.splice(index, 1)[0]!.answer();
    },
    heldCount: (vendor) => held.filter((h) => h.vendor === vendor).length,
    setQuota: (vendor, quota) => quotas.set(vendor, { quota, counted: new Map() }),
    clock: () => new Date(),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return upstream;
}

/** Environment pointing the service at the stand-in, both vendors configured in the given order. */
export function providerEnv(upstream: Upstream, order: Vendor[] = ['alphavantage', 'twelvedata']): Record<string, string> {
  return {
    MARKET_DATA_PROVIDERS: order.join(','),
    ALPHAVANTAGE_API_KEY: 'av-test-key',
    ALPHAVANTAGE_BASE_URL: upstream.url,
    TWELVEDATA_API_KEY: 'td-test-key',
    TWELVEDATA_BASE_URL: upstream.url,
    // The production default; the test of a slow vendor sets a short one of its own.
    PROVIDER_TIMEOUT_MS: '5000',
  };
}
