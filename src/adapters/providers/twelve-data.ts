import type { MarketDataProvider } from '../../app/market-data.js';
import type { DailyBar } from '../../domain/quote.js';
import { barOrThrow, createVendorClient, isRecord, secondsUntilUtcMidnight, type VendorClient, type VendorOptions } from './vendor-client.js';

const NAME = 'twelvedata';

/**
 * Twelve Data `/time_series` at interval 1day. Chosen as the second source
 * because its free tier is the most generous of the candidates (800 requests
 * a day against Alpha Vantage's 25) and, like Alpha Vantage, it gives prices
 * as decimal strings, so nothing passes through a float.
 * Errors come as {"status": "error", "code": N, "message": …}, often with HTTP 200:
 * code 400/404 with "not found" is an unknown symbol, 429 is out of credits,
 * 401/403 a bad key or a plan restriction.
 */
export function createTwelveDataProvider(options: VendorOptions): MarketDataProvider {
  const vendor = createVendorClient(NAME, options);
  return {
    name: NAME,
    maxConcurrentRequests: 4,
    async getDailyBars(symbol) {
      const { status, body, retryAfter } = await vendor.get('time_series', { symbol, interval: '1day', outputsize: '100' });
      if (!isRecord(body)) throw vendor.error('unavailable', `answered HTTP ${status} without an object`);
      if (body.status === 'error' || status !== 200) throwError(vendor, body, status, retryAfter);
      const currency = isRecord(body.meta) && typeof body.meta.currency === 'string' ? body.meta.currency : undefined;
      return { bars: parseValues(vendor, body.values), currency };
    },
  };
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
  throw vendor.error('unavailable', message);
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
