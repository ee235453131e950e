import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DailyBar } from '../../src/domain/quote.js';

/**
 * A local stand-in for the market-data vendors: it answers Alpha Vantage's
 * `/query?function=TIME_SERIES_DAILY` and Twelve Data's `/time_series` in their
 * documented formats, error shapes included. No test reaches the internet.
 */
export type Bar = DailyBar;

export type Behavior =
  | { kind: 'bars'; bars: Bar[] }
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
  | { kind: 'no_series' }
  | { kind: 'slow'; ms: number }
  // Answers as `then` only when the test releases it (Upstream.release): a vendor call stays in flight for
  // exactly as long as the test wants, so tests assert the order calls arrive in, never how long they took.
  | { kind: 'held'; then: Behavior };

export type Vendor = 'alphavantage' | 'twelvedata';

/** The seed's IBM: 2022-07-29 closes at 130.7900 after 129.2200 — a variation of 1.57. */
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

function alphaVantage(behavior: Behavior, symbol: string, res: ServerResponse, key: string): void {
  const json = (body: unknown, status = 200) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  switch (behavior.kind) {
    case 'bars': {
      const series = Object.fromEntries(
        behavior.bars.map((b) => [b.date, { '1. open': b.open, '2. high': b.high, '3. low': b.low, '4. close': b.close, '5. volume': String(b.volume) }]),
      );
      return json({
        'Meta Data': { '1. Information': 'Daily Prices (open, high, low, close) and Volumes', '2. Symbol': symbol, '3. Last Refreshed': behavior.bars[0]?.date, '4. Output Size': 'Compact', '5. Time Zone': 'US/Eastern' },
        'Time Series (Daily)': series,
      });
    }
    case 'unknown':
      return json({ 'Error Message': 'Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY.' });
    case 'rate_limited':
      return json({ Note: avRateNote });
    case 'daily_limit':
      return json({ Information: avDailyLimit });
    case 'burst':
      return json({ Information: avBurstLimit });
    case 'premium':
      return json({ Information: 'Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints' });
    case 'bad_key':
      return json({ Information: 'the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key).' });
    case 'quotes_key':
      return json({ Information: `The API key ${key} is invalid. Please visit https://www.alphavantage.co/query?function=TIME_SERIES_DAILY&apikey=${encodeURIComponent(key)} to check it.` });
    case 'no_series':
      return json({ 'Meta Data': { '2. Symbol': symbol } });
    default:
      return common(behavior, res);
  }
}

function twelveData(behavior: Behavior, symbol: string, res: ServerResponse, key: string): void {
  const json = (body: unknown, status = 200) => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const error = (code: number, message: string) => json({ code, message, status: 'error', meta: {} });
  switch (behavior.kind) {
    case 'bars':
      return json({
        meta: { symbol, interval: '1day', currency: 'USD', exchange_timezone: 'America/New_York', exchange: 'NYSE', type: 'Common Stock' },
        values: behavior.bars.map((b) => ({ datetime: b.date, open: b.open, high: b.high, low: b.low, close: b.close, volume: String(b.volume) })),
        status: 'ok',
      });
    case 'unknown':
      return error(400, `**symbol** not found: ${symbol}. Please specify it correctly according to API Documentation.`);
    case 'rate_limited':
    case 'daily_limit':
    case 'burst':
      return error(429, 'You have run out of API credits for the current minute. 9 API credits were used, with the current limit being 8.');
    case 'premium':
      return error(403, '/time_series is available exclusively with pro or enterprise plans.');
    case 'bad_key':
      return error(401, '**apikey** parameter is incorrect or not specified.');
    case 'quotes_key':
      return error(401, `**apikey** ${key} is incorrect.`);
    case 'no_series':
      return json({ meta: { symbol }, status: 'ok' });
    default:
      return common(behavior, res);
  }
}

function common(behavior: Behavior, res: ServerResponse): void {
  switch (behavior.kind) {
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
  /** Symbols asked of each vendor, in order. */
  calls: Record<Vendor, string[]>;
  /** Keys each vendor received. */
  keys: Record<Vendor, string[]>;
  set(vendor: Vendor, symbol: string, behavior: Behavior): void;
  /** Resolves once `count` calls in all have reached the vendor. */
  callsReached(vendor: Vendor, count: number): Promise<void>;
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
  const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (vendor === 'alphavantage') return json({ Information: window === 'day' ? avDailyLimit : avBurstLimit });
  const message =
    window === 'day'
      ? 'You have run out of API credits for the day. 801 API credits were used, with the current limit being 800. Wait for the next day or consider switching to a higher tier plan at https://twelvedata.com/pricing'
      : 'You have run out of API credits for the current minute. 9 API credits were used, with the current limit being 8. Wait for the next minute or consider switching to a higher tier plan at https://twelvedata.com/pricing';
  return json({ code: 429, message, status: 'error' });
}

interface HeldAnswer {
  vendor: Vendor;
  symbol: string;
  answer: () => void;
}

/** `prefix`: where the vendors are mounted, as behind a proxy or gateway (`/av-proxy`); requests outside it are 404. */
export async function startUpstream(options: { prefix?: string } = {}): Promise<Upstream> {
  const prefix = options.prefix ?? '';
  const behaviors = new Map<string, Behavior>();
  const calls: Record<Vendor, string[]> = { alphavantage: [], twelvedata: [] };
  const keys: Record<Vendor, string[]> = { alphavantage: [], twelvedata: [] };
  const held: HeldAnswer[] = [];
  const quotas = new Map<Vendor, { quota: Quota; counted: Map<string, number> }>();
  const waitingForCalls: { vendor: Vendor; count: number; resolve: () => void }[] = [];

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
      if (calls[waiter.vendor].length < waiter.count) continue;
      waitingForCalls.splice(waitingForCalls.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  function answer(vendor: Vendor, behavior: Behavior, symbol: string, res: ServerResponse, key: string): void {
    if (behavior.kind === 'slow') {
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), behavior.ms);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (behavior.kind === 'held') {
      const entry: HeldAnswer = { vendor, symbol, answer: () => answer(vendor, behavior.then, symbol, res, key) };
      held.push(entry);
      // A call the service gave up on (timeout, shutdown) is no longer held.
      res.on('close', () => {
        if (held.includes(entry)) held.splice(held.indexOf(entry), 1);
      });
      return;
    }
    (vendor === 'alphavantage' ? alphaVantage : twelveData)(behavior, symbol, res, key);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const vendor: Vendor | undefined =
      url.pathname === `${prefix}/query` && url.searchParams.get('function') === 'TIME_SERIES_DAILY'
        ? 'alphavantage'
        : url.pathname === `${prefix}/time_series` && url.searchParams.get('interval') === '1day'
          ? 'twelvedata'
          : undefined;
    if (!vendor) return void res.writeHead(404).end('not a vendor endpoint');
    const symbol = url.searchParams.get('symbol') ?? '';
    const key = url.searchParams.get('apikey') ?? '';
    calls[vendor].push(symbol);
    keys[vendor].push(key);
    const over = overQuota(vendor);
    if (over) {
      quotaAnswer(vendor, over, res);
    } else {
      answer(vendor, behaviors.get(`${vendor}:${symbol}`) ?? { kind: 'unknown' }, symbol, res, key);
    }
    callArrived();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  const upstream: Upstream = {
    url: `http://127.0.0.1:${port}`,
    calls,
    keys,
    set: (vendor, symbol, behavior) => behaviors.set(`${vendor}:${symbol}`, behavior),
    callsReached: (vendor, count) =>
      calls[vendor].length >= count ? Promise.resolve() : new Promise((resolve) => waitingForCalls.push({ vendor, count, resolve })),
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
