import type { MarketDataProvider } from '../../app/market-data.js';
import type { DailyBar } from '../../domain/quote.js';
import { barOrThrow, createVendorClient, isRecord, secondsUntilUtcMidnight, type VendorClient, type VendorOptions } from './vendor-client.js';

const NAME = 'alphavantage';

/**
 * Alpha Vantage TIME_SERIES_DAILY, compact output (the last 100 sessions;
 * `outputsize=full` is premium on free keys). Alpha Vantage answers HTTP 200
 * for its errors, so the body decides:
 *   {"Error Message": …}            the symbol is unknown (or the call invalid)
 *   {"Note": …} / {"Information": …} rate limit, premium-only, or a bad key
 * (notices have quoted the key: every error goes through the client, which redacts it).
 */
export function createAlphaVantageProvider(options: VendorOptions): MarketDataProvider {
  const vendor = createVendorClient(NAME, options);
  return {
    name: NAME,
    maxConcurrentRequests: 1,
    async getDailyBars(symbol) {
      const { status, body } = await vendor.get('query', { function: 'TIME_SERIES_DAILY', symbol, outputsize: 'compact' });
      if (status === 429) throw vendor.error('rate_limited', 'HTTP 429', 60);
      if (status !== 200 || !isRecord(body)) throw vendor.error('unavailable', `answered HTTP ${status}`);
      throwIfErrorBody(vendor, body);
      // TIME_SERIES_DAILY does not say its currency (SYMBOL_SEARCH does).
      return { bars: parseSeries(vendor, body['Time Series (Daily)']) };
    },
  };
}

function throwIfErrorBody(vendor: VendorClient, body: Record<string, unknown>): void {
  const errorMessage = body['Error Message'];
  if (typeof errorMessage === 'string') throw vendor.error('unknown_symbol', errorMessage);
  const notice = body.Note ?? body.Information;
  if (typeof notice !== 'string') return;
  if (/rate limit|per day|per minute|per second|sparingly|call frequency/i.test(notice)) {
    // The burst notice ("more sparingly (1 request per second)") names the daily limit too: the shorter window decides.
    const retryAfter = /per day/i.test(notice) && !/sparingly|per second|per minute/i.test(notice) ? secondsUntilUtcMidnight() : 60;
    throw vendor.error('rate_limited', notice, retryAfter);
  }
  // Premium-only endpoints and invalid keys: this vendor cannot answer, another may.
  throw vendor.error('unavailable', notice);
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
