import { type MarketDataProvider, ProviderError } from '../../app/market-data.js';
import type { DailyBar } from '../../domain/quote.js';
import { checkedBar, fetchJson, isRecord, secondsUntilUtcMidnight, type VendorOptions } from './http.js';

const NAME = 'alphavantage';

/**
 * Alpha Vantage TIME_SERIES_DAILY, compact output (the last 100 sessions;
 * `outputsize=full` is premium on free keys). Alpha Vantage answers HTTP 200
 * for its errors, so the body decides:
 *   {"Error Message": …}            the symbol is unknown (or the call invalid)
 *   {"Note": …} / {"Information": …} rate limit, premium-only, or a bad key
 */
export function createAlphaVantageProvider(options: VendorOptions): MarketDataProvider {
  return {
    name: NAME,
    maxConcurrentRequests: 1,
    async getDailyBars(symbol) {
      const url = new URL('/query', options.baseUrl);
      url.search = new URLSearchParams({ function: 'TIME_SERIES_DAILY', symbol, outputsize: 'compact', apikey: options.apiKey }).toString();
      const { status, body } = await fetchJson(NAME, url, options.timeoutMs);
      if (status === 429) throw new ProviderError(NAME, 'rate_limited', 'HTTP 429', 60);
      if (status !== 200 || !isRecord(body)) throw new ProviderError(NAME, 'unavailable', `answered HTTP ${status}`);
      throwIfErrorBody(body);
      return parseSeries(body['Time Series (Daily)']);
    },
  };
}

function throwIfErrorBody(body: Record<string, unknown>): void {
  const errorMessage = body['Error Message'];
  if (typeof errorMessage === 'string') throw new ProviderError(NAME, 'unknown_symbol', errorMessage);
  const notice = body.Note ?? body.Information;
  if (typeof notice !== 'string') return;
  if (/rate limit|per day|per minute|per second|sparingly|call frequency/i.test(notice)) {
    // The burst notice ("more sparingly (1 request per second)") names the daily limit too: the shorter window decides.
    const retryAfter = /per day/i.test(notice) && !/sparingly|per second|per minute/i.test(notice) ? secondsUntilUtcMidnight() : 60;
    throw new ProviderError(NAME, 'rate_limited', notice, retryAfter);
  }
  // Premium-only endpoints and invalid keys: this vendor cannot answer, another may.
  throw new ProviderError(NAME, 'unavailable', notice);
}

function parseSeries(series: unknown): DailyBar[] {
  if (!isRecord(series)) throw new ProviderError(NAME, 'unavailable', 'answer has no "Time Series (Daily)"');
  const bars: DailyBar[] = [];
  for (const [date, day] of Object.entries(series)) {
    if (!isRecord(day)) throw new ProviderError(NAME, 'unavailable', `malformed bar for ${date}`);
    const bar: DailyBar = {
      date,
      open: String(day['1. open']),
      high: String(day['2. high']),
      low: String(day['3. low']),
      close: String(day['4. close']),
      volume: Number(day['5. volume']),
    };
    bars.push(checkedBar(NAME, bar));
  }
  return bars.sort((a, b) => (a.date < b.date ? 1 : -1));
}
