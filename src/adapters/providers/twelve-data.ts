import type { Dividend, MarketDataProvider, Split, SymbolMatch } from '../../app/market-data/providers.js';
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

const NAME = 'twelvedata';
const MAX_OUTPUTSIZE = 5000;

/**
 * Twelve Data `/time_series` at interval 1day, `/symbol_search`, `/splits` and
 * `/dividends`. Chosen as the second source because its free tier is the most
 * generous of the candidates (800 requests a day against Alpha Vantage's 25) and,
 * like Alpha Vantage, it gives prices as decimal strings, so nothing passes through
 * a float (splits and dividends come as JSON numbers: taken through String()).
 * Errors come as {"status": "error", "code": N, "message": …}, often with HTTP 200:
 * code 400/404 with "not found" is an unknown symbol, 429 is out of credits,
 * 401/403 a bad key or a plan restriction (splits and dividends need the Grow plan:
 * on a Basic key they are 403, unavailable).
 */
export function createTwelveDataProvider(options: VendorOptions): MarketDataProvider {
  const vendor = createVendorClient(NAME, options);
  return {
    name: NAME,
    maxConcurrentRequests: 4,
    async getDailyBars(symbol, sessions) {
      // 1 to 5,000 data points a request, every plan, one credit whatever the size (its docs, "outputsize").
      const outputsize = String(Math.min(Math.max(1, sessions), MAX_OUTPUTSIZE));
      const body = await request(vendor, 'time_series', { symbol, interval: '1day', outputsize });
      const currency = isRecord(body.meta) && typeof body.meta.currency === 'string' ? body.meta.currency : undefined;
      return { bars: parseValues(vendor, body.values), currency };
    },
    async searchSymbols(query) {
      // No match is {"data": [], "status": "ok"}, not an error.
      const body = await request(vendor, 'symbol_search', { symbol: query });
      return rowsOf(vendor, body, 'data').map((row) => parseMatch(vendor, row));
    },
    async getSplits(symbol) {
      // `range` defaults to "last", the latest split only (docs, /splits parameters): ask for all.
      const body = await request(vendor, 'splits', { symbol, range: 'full' });
      return rowsOf(vendor, body, 'splits').map((row) => parseSplit(vendor, row));
    },
    async getDividends(symbol) {
      // `range` defaults to "last" here too. {"dividends": [{"ex_date": "2021-08-06", "amount": 0.22}]}
      const body = await request(vendor, 'dividends', { symbol, range: 'full' });
      return rowsOf(vendor, body, 'dividends').map(
        (row): Dividend => ({ exDate: dateOrThrow(vendor, row.ex_date, 'ex-dividend date'), amount: decimalOrThrow(vendor, row.amount, 'dividend amount') }),
      );
    },
  };
}

/** The answer's body, once neither HTTP nor the body says it is an error. */
async function request(vendor: VendorClient, endpoint: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const { status, body, retryAfter } = await vendor.get(endpoint, params);
  if (!isRecord(body)) throw vendor.error('unavailable', `answered HTTP ${status} without an object`);
  if (body.status === 'error' || status !== 200) throwError(vendor, body, status, retryAfter);
  return body;
}

function throwError(vendor: VendorClient, body: Record<string, unknown>, status: number, retryAfter: string | null): never {
  const code = typeof body.code === 'number' ? body.code : status;
  const message = typeof body.message === 'string' ? body.message : `error ${code}`;
  if (code === 429) {
    // "…for the current minute" or "…for the day": the daily credits come back at 00:00 UTC.
    const untilReset = /for the day/i.test(message) ? secondsUntilUtcMidnight() : 60;
    throw vendor.error('rate_limited', message, Number(retryAfter) || untilReset);
  }
  if ((code === 400 || code === 404) && /not found|invalid symbol/i.test(message)) {
    throw vendor.error('unknown_symbol', message);
  }
  // 403: "available exclusively with … plans" — the endpoint is not on this key's plan.
  throw vendor.error(code === 403 ? 'not_offered' : 'unavailable', message);
}

/** The array `body[field]` of objects; an answer without it is nonsense, as a time series without values is. */
function rowsOf(vendor: VendorClient, body: Record<string, unknown>, field: string): Record<string, unknown>[] {
  const rows = body[field];
  if (!Array.isArray(rows)) throw vendor.error('unavailable', `answer has no "${field}"`);
  if (!rows.every(isRecord)) throw vendor.error('unavailable', `malformed "${field}"`);
  return rows;
}

/** Twelve Data names the listing's exchange and country; its country is what Alpha Vantage calls the region. */
function parseMatch(vendor: VendorClient, row: Record<string, unknown>): SymbolMatch {
  const text = (field: string) => matchTextOrThrow(vendor, row[field], field);
  return {
    symbol: text('symbol'),
    name: text('instrument_name'),
    type: text('instrument_type'),
    exchange: text('exchange'),
    region: text('country'),
    timezone: text('exchange_timezone'),
    currency: text('currency'),
  };
}

/**
 * Twelve Data's docs (/splits, response example) give Apple's 2020 split as
 *   {"date": "2020-08-31", "description": "4-for-1 split", "ratio": 0.25, "from_factor": 4, "to_factor": 1}
 * and /splits_calendar a 2-for-1 as ratio 0.5, from_factor 2, to_factor 1: `from_factor`
 * is the new shares, `to_factor` the old, and `ratio` the price multiplier (to/from), not the factor.
 * Some third-party pages show the factors the other way round, so the "N-for-M" of the
 * description, when there is one, must agree; a split that contradicts it is refused.
 */
function parseSplit(vendor: VendorClient, row: Record<string, unknown>): Split {
  const date = dateOrThrow(vendor, row.date, 'split date');
  const factor = splitFactorOrThrow(vendor, row.from_factor, row.to_factor);
  const described = typeof row.description === 'string' ? /(\d+(?:\.\d+)?)-for-(\d+(?:\.\d+)?)/.exec(row.description) : null;
  // Both sides are canonical decimal strings (no trailing zeros): equal numbers are equal strings.
  if (described && splitFactorOrThrow(vendor, described[1], described[2]) !== factor) {
    throw vendor.error('unavailable', `split of ${date}: factors ${String(row.from_factor)}/${String(row.to_factor)} contradict "${row.description as string}"`);
  }
  return { date, factor };
}

function parseValues(vendor: VendorClient, values: unknown): DailyBar[] {
  if (!Array.isArray(values)) throw vendor.error('unavailable', 'answer has no "values"');
  const bars = values.map((value): DailyBar => {
    if (!isRecord(value)) throw vendor.error('unavailable', 'malformed value');
    const bar: DailyBar = {
      date: String(value.datetime).slice(0, 10),
      open: String(value.open),
      high: String(value.high),
      low: String(value.low),
      close: String(value.close),
      volume: Number(value.volume ?? 0),
    };
    return barOrThrow(vendor, bar);
  });
  return bars.sort((a, b) => (a.date < b.date ? 1 : -1));
}
