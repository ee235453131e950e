import type { Dividend, MarketDataProvider, Split, SymbolMatch } from '../../app/market-data/providers.js';
import { type AlphaVantageQuery, answersCsv, type PassThroughAnswer } from '../../domain/alpha-vantage-functions.js';
import { checkPeriodBar, type Period, type PeriodBar } from '../../domain/periods.js';
import type { DailyBar } from '../../domain/quote.js';
import {
  barOrThrow,
  createVendorClient,
  dateOrThrow,
  decimalOrThrow,
  isRecord,
  matchTextOrThrow,
  secondsUntilUtcMidnight,
  splitFactorOrThrow,
  type VendorClient,
  type VendorOptions,
} from './vendor-client.js';

const NAME = 'alphavantage';

export interface AlphaVantageOptions extends VendorOptions {
  /** The longest passed-through answer read; a longer one is answered `too_large`, unread. */
  passThroughMaxBytes?: number;
}

/** Without a setting: the most the vendor client reads of any answer. */
const PASS_THROUGH_MAX_BYTES = 8 * 1024 * 1024;

/** Alpha Vantage's weekly and monthly series with adjusted closes and dividends, and the key its answer keeps them under. */
const PERIOD_SERIES: Record<Period, { function: string; key: string }> = {
  week: { function: 'TIME_SERIES_WEEKLY_ADJUSTED', key: 'Weekly Adjusted Time Series' },
  month: { function: 'TIME_SERIES_MONTHLY_ADJUSTED', key: 'Monthly Adjusted Time Series' },
};

/**
 * Alpha Vantage TIME_SERIES_DAILY, compact output (the last 100 sessions;
 * `outputsize=full` is premium on free keys), TIME_SERIES_WEEKLY_ADJUSTED and
 * TIME_SERIES_MONTHLY_ADJUSTED (free, 20+ years in one call), and SYMBOL_SEARCH,
 * SPLITS and DIVIDENDS. Alpha Vantage answers HTTP 200 for its errors, so the body decides:
 *   {"Error Message": …}            the symbol is unknown (or the call invalid)
 *   {"Note": …} / {"Information": …} rate limit, premium-only, or a bad key
 * (notices have quoted the key: every error goes through the client, which redacts it).
 */
export function createAlphaVantageProvider(options: AlphaVantageOptions): MarketDataProvider {
  const vendor = createVendorClient(NAME, options);
  return {
    name: NAME,
    maxConcurrentRequests: 1,
    async getDailyBars(symbol) {
      // Compact (the latest 100) whatever is asked: `outputsize=full` is premium on free keys.
      const body = await query(vendor, { function: 'TIME_SERIES_DAILY', symbol, outputsize: 'compact' });
      // TIME_SERIES_DAILY does not say its currency (SYMBOL_SEARCH does).
      return { bars: parseSeries(vendor, body['Time Series (Daily)']) };
    },
    async searchSymbols(keywords) {
      // No match is {"bestMatches": []}, not an error.
      const body = await query(vendor, { function: 'SYMBOL_SEARCH', keywords });
      return rowsOf(vendor, body, 'bestMatches').map((row) => parseMatch(vendor, row));
    },
    async getSplits(symbol) {
      // {"symbol": "AAPL", "data": [{"effective_date": "2020-08-31", "split_factor": "4.0000"}]}:
      // the factor is already new shares per old (NVDA's 10-for-1 of 2024 is "10.0000").
      const body = await query(vendor, { function: 'SPLITS', symbol });
      return rowsOf(vendor, body, 'data').map(
        (row): Split => ({ date: dateOrThrow(vendor, row.effective_date, 'split date'), factor: splitFactorOrThrow(vendor, row.split_factor) }),
      );
    },
    async getDividends(symbol) {
      // {"symbol": …, "data": [{"ex_dividend_date", "declaration_date", "record_date", "payment_date", "amount"}]},
      // dates it does not know yet written "None".
      const body = await query(vendor, { function: 'DIVIDENDS', symbol });
      return rowsOf(vendor, body, 'data').flatMap((row) => parseDividend(vendor, row));
    },
    passThrough: (query) => passThrough(vendor, query, options.passThroughMaxBytes ?? PASS_THROUGH_MAX_BYTES),
    async getPeriodBars(symbol, period) {
      // The _ADJUSTED series: one call gives the bars as traded and Alpha Vantage's adjusted close and dividend of each.
      const { function: name, key } = PERIOD_SERIES[period];
      const body = await query(vendor, { function: name, symbol });
      return parsePeriodSeries(vendor, body[key], key);
    },
  };
}

const NOTICE_KEYS = new Set(['Error Message', 'Information', 'Note']);

/**
 * A call the store does not serve, asked as is. Its answer is passed back as Alpha Vantage wrote it (the key
 * redacted wherever it is quoted), unless it is no answer to the call: a rate-limit notice, a notice about the
 * key (ours: the client's never travels), an HTML page, nonsense — failures, so nothing is kept and failover,
 * the budget and the back-off do as they do for any other call.
 */
async function passThrough(vendor: VendorClient, query: AlphaVantageQuery, maxBytes: number): Promise<PassThroughAnswer> {
  const { status, contentType, text } = await vendor.getText('query', [['function', query.function], ...query.parameters], maxBytes);
  if (status === 429) throw vendor.error('rate_limited', 'HTTP 429', 60);
  if (status !== 200) throw vendor.error('unavailable', `answered HTTP ${status}`);
  if (text === undefined) return { kind: 'too_large' };
  if (/^text\/html/i.test(contentType)) throw vendor.error('unavailable', 'answered an HTML page');
  // No answer of Alpha Vantage holds one, and PostgreSQL could not keep it.
  if (text.includes('\u0000')) throw vendor.error('unavailable', 'answered a NUL character');
  const body = vendor.redact(text);
  if (!/^\s*[[{]/.test(body)) {
    // CSV, when asked for; anything else where JSON was due is nonsense (a proxy's error text, say).
    if (answersCsv(query) && body.trim() !== '') return { kind: 'data', format: 'csv', body };
    throw vendor.error('unavailable', 'answered neither JSON nor the CSV asked for');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw vendor.error('unavailable', 'answered malformed JSON');
  }
  // Only a body of nothing but notices is one: data may carry an "Information" field of its own.
  if (!isRecord(parsed) || Object.keys(parsed).length === 0 || !Object.keys(parsed).every((key) => NOTICE_KEYS.has(key))) {
    return { kind: 'data', format: 'json', body };
  }
  const errorMessage = parsed['Error Message'];
  const notice = parsed.Information ?? parsed.Note;
  const said = typeof errorMessage === 'string' ? errorMessage : typeof notice === 'string' ? notice : '';
  if (/\bapi ?key\b/i.test(said) && rateLimitRetryAfter(said) === undefined) throw vendor.error('unavailable', said);
  if (typeof errorMessage === 'string') return { kind: 'error', format: 'json', body };
  const retryAfter = rateLimitRetryAfter(said);
  if (retryAfter !== undefined) throw vendor.error('rate_limited', said, retryAfter);
  // "This is a premium endpoint", or "The outputsize=full parameter value is a premium feature": the key's plan decides.
  return { kind: /premium (endpoint|feature)/i.test(said) ? 'premium' : 'notice', format: 'json', body };
}

/** The answer's body, once neither HTTP nor the body says it is an error. */
async function query(vendor: VendorClient, params: Record<string, string>): Promise<Record<string, unknown>> {
  const { status, body } = await vendor.get('query', params);
  if (status === 429) throw vendor.error('rate_limited', 'HTTP 429', 60);
  if (status !== 200 || !isRecord(body)) throw vendor.error('unavailable', `answered HTTP ${status}`);
  throwIfErrorBody(vendor, body);
  return body;
}

function throwIfErrorBody(vendor: VendorClient, body: Record<string, unknown>): void {
  const errorMessage = body['Error Message'];
  if (typeof errorMessage === 'string') throw vendor.error('unknown_symbol', errorMessage);
  const notice = body.Note ?? body.Information;
  if (typeof notice !== 'string') return;
  const retryAfter = rateLimitRetryAfter(notice);
  if (retryAfter !== undefined) throw vendor.error('rate_limited', notice, retryAfter);
  // Premium-only endpoints and invalid keys: this vendor cannot answer, another may.
  throw vendor.error(/premium endpoint/i.test(notice) ? 'not_offered' : 'unavailable', notice);
}

/** Seconds until a rate-limit notice's window ends; undefined for any other notice. */
function rateLimitRetryAfter(notice: string): number | undefined {
  if (!/rate limit|per day|per minute|per second|sparingly|call frequency/i.test(notice)) return undefined;
  // The burst notice ("more sparingly (1 request per second)") names the daily limit too: the shorter window decides.
  return /per day/i.test(notice) && !/sparingly|per second|per minute/i.test(notice) ? secondsUntilUtcMidnight() : 60;
}

/** The array `body[field]` of objects; an answer without it is nonsense, as a daily answer without its series is. */
function rowsOf(vendor: VendorClient, body: Record<string, unknown>, field: string): Record<string, unknown>[] {
  const rows = body[field];
  if (!Array.isArray(rows)) throw vendor.error('unavailable', `answer has no "${field}"`);
  if (!rows.every(isRecord)) throw vendor.error('unavailable', `malformed "${field}"`);
  return rows;
}

const MATCH_FIELDS = {
  symbol: '1. symbol',
  name: '2. name',
  type: '3. type',
  region: '4. region',
  marketOpen: '5. marketOpen',
  marketClose: '6. marketClose',
  timezone: '7. timezone',
  currency: '8. currency',
  matchScore: '9. matchScore',
} as const;

function parseMatch(vendor: VendorClient, row: Record<string, unknown>): SymbolMatch {
  const text = (field: keyof typeof MATCH_FIELDS) => matchTextOrThrow(vendor, row[MATCH_FIELDS[field]], MATCH_FIELDS[field]);
  return {
    symbol: text('symbol'),
    name: text('name'),
    type: text('type'),
    region: text('region'),
    marketOpen: text('marketOpen'),
    marketClose: text('marketClose'),
    timezone: text('timezone'),
    currency: text('currency'),
    matchScore: decimalOrThrow(vendor, row[MATCH_FIELDS.matchScore], 'match score'),
  };
}

/** A dividend whose ex-date or amount is still "None" (announced, not fixed) cannot be applied yet: left out. */
function parseDividend(vendor: VendorClient, row: Record<string, unknown>): Dividend[] {
  if (row.ex_dividend_date === 'None' || row.amount === 'None') return [];
  return [{ exDate: dateOrThrow(vendor, row.ex_dividend_date, 'ex-dividend date'), amount: decimalOrThrow(vendor, row.amount, 'dividend amount') }];
}

function parseSeries(vendor: VendorClient, series: unknown): DailyBar[] {
  if (!isRecord(series)) throw vendor.error('unavailable', 'answer has no "Time Series (Daily)"');
  const bars: DailyBar[] = [];
  for (const [date, day] of Object.entries(series)) {
    if (!isRecord(day)) throw vendor.error('unavailable', `malformed bar for ${date}`);
    const bar: DailyBar = {
      date,
      open: String(day['1. open']),
      high: String(day['2. high']),
      low: String(day['3. low']),
      close: String(day['4. close']),
      volume: Number(day['5. volume']),
    };
    bars.push(barOrThrow(vendor, bar));
  }
  return bars.sort((a, b) => (a.date < b.date ? 1 : -1));
}

/**
 * {"Meta Data": …, "Weekly Adjusted Time Series": {"2025-11-06": {"1. open", "2. high", "3. low", "4. close",
 * "5. adjusted close", "6. volume", "7. dividend amount"}, …}}, each dated the last session of its period;
 * one malformed bar refuses the answer, as in a daily series.
 */
function parsePeriodSeries(vendor: VendorClient, series: unknown, key: string): PeriodBar[] {
  if (!isRecord(series)) throw vendor.error('unavailable', `answer has no "${key}"`);
  const bars: PeriodBar[] = [];
  for (const [date, period] of Object.entries(series)) {
    if (!isRecord(period)) throw vendor.error('unavailable', `malformed bar for ${date}`);
    const bar: PeriodBar = {
      date,
      open: String(period['1. open']),
      high: String(period['2. high']),
      low: String(period['3. low']),
      close: String(period['4. close']),
      adjustedClose: String(period['5. adjusted close']),
      volume: Number(period['6. volume']),
      dividend: String(period['7. dividend amount']),
    };
    const problem = checkPeriodBar(bar);
    if (problem) throw vendor.error('unavailable', `malformed bar: ${problem}`);
    bars.push(bar);
  }
  return bars.sort((a, b) => (a.date < b.date ? 1 : -1));
}
