import { describe, expect, it } from 'vitest';
import { ProviderError, type ProviderFailure } from '../src/app/market-data.js';
import { createAlphaVantageProvider } from '../src/adapters/providers/alpha-vantage.js';
import { createTwelveDataProvider } from '../src/adapters/providers/twelve-data.js';
import { join } from 'node:path';
import { inject } from 'vitest';
import { freePort, runEntry, waitForServer } from './support/process.js';
import { type Behavior, IBM_BARS, providerEnv, startUpstream, type Vendor } from './support/upstream.js';

const adapters = {
  alphavantage: createAlphaVantageProvider,
  twelvedata: createTwelveDataProvider,
};

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe.each(['alphavantage', 'twelvedata'] as Vendor[])('the %s adapter', (vendor) => {
  // The production default: a loaded CI machine must not turn a slow first request into a failure.
  async function provider(timeoutMs = 5000) {
    const upstream = await startUpstream();
    const adapter = adapters[vendor]({ apiKey: 'secret-key', baseUrl: upstream.url, timeoutMs });
    return { upstream, adapter };
  }

  it('when the vendor has the symbol, then bars come back newest first with prices exactly as given', async () => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind: 'bars', bars: [...IBM_BARS].reverse() });
    const { bars } = await adapter.getDailyBars('IBM');
    expect(bars).toEqual(IBM_BARS);
    expect(upstream.keys[vendor]).toEqual(['secret-key']);
  });

  it.each<[Behavior['kind'], ProviderFailure]>([
    ['unknown', 'unknown_symbol'],
    ['rate_limited', 'rate_limited'],
    ['daily_limit', 'rate_limited'],
    ['burst', 'rate_limited'],
    ['premium', 'unavailable'],
    ['bad_key', 'unavailable'],
    ['http_500', 'unavailable'],
    ['html', 'unavailable'],
    ['malformed_json', 'unavailable'],
    ['no_series', 'unavailable'],
  ])('when the vendor answers %s, then the failure is %s', async (kind, failure) => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind } as Behavior);
    const error = await failureOf(adapter.getDailyBars('IBM'));
    expect(error.failure).toBe(failure);
    if (failure === 'rate_limited') expect(error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('when the vendor does not answer within the timeout, then it is unavailable', async () => {
    const { upstream, adapter } = await provider(300);
    upstream.set(vendor, 'IBM', { kind: 'slow', ms: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM'));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toMatch(/no answer within 300 ms/);
  });

  it('when the vendor is unreachable, then it is unavailable', async () => {
    const adapter = adapters[vendor]({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', timeoutMs: 5000 });
    expect((await failureOf(adapter.getDailyBars('IBM'))).failure).toBe('unavailable');
  });

  it.each(['/av-proxy', '/av-proxy/'])('when the base URL has a path (%s), then the vendor is called under it', async (path) => {
    const upstream = await startUpstream({ prefix: '/av-proxy' });
    upstream.set(vendor, 'IBM', { kind: 'bars', bars: IBM_BARS });
    const adapter = adapters[vendor]({ apiKey: 'secret-key', baseUrl: `${upstream.url}${path}`, timeoutMs: 5000 });
    expect((await adapter.getDailyBars('IBM')).bars).toEqual(IBM_BARS);
    expect(upstream.calls[vendor]).toEqual(['IBM']);
  });

  it('when the vendor quotes the key in its error, then the error carries no key', async () => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind: 'quotes_key' });
    const error = await failureOf(adapter.getDailyBars('IBM'));
    expect(error.failure).toBe('unavailable');
    expect(error.message).toContain('[REDACTED]');
    expect(`${error.message} ${error.stack}`).not.toContain('secret-key');
  });

  it('when a bar is malformed, then the answer is refused as unavailable', async () => {
    const { upstream, adapter } = await provider();
    upstream.set(vendor, 'IBM', { kind: 'bars', bars: [{ ...IBM_BARS[0]!, close: 'n/a' }] });
    expect((await failureOf(adapter.getDailyBars('IBM'))).failure).toBe('unavailable');
  });
});

describe('Alpha Vantage per-second limit', () => {
  it('when asked to spread requests out, then retry is within a minute, though the notice names the daily limit too', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'burst' });
    const adapter = createAlphaVantageProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM'));
    expect(error.failure).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
  });
});

describe('Twelve Data daily credits', () => {
  it('when the day\'s credits are spent, then retry is after the next UTC midnight', async () => {
    const upstream = await startUpstream();
    upstream.setQuota('twelvedata', { perDay: 0 });
    const adapter = createTwelveDataProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM'));
    expect(error.failure).toBe('rate_limited');
    expect(error.retryAfterSeconds).toBeGreaterThan(60);
  });
});

describe('Alpha Vantage daily limit', () => {
  it('when the 25-a-day limit is hit, then retry is after the next UTC midnight', async () => {
    const upstream = await startUpstream();
    upstream.set('alphavantage', 'IBM', { kind: 'daily_limit' });
    const adapter = createAlphaVantageProvider({ apiKey: 'k', baseUrl: upstream.url, timeoutMs: 5000 });
    const error = await failureOf(adapter.getDailyBars('IBM'));
    const now = new Date();
    const untilMidnight = (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000;
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(Math.floor(untilMidnight) - 5);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil(untilMidnight) + 1);
  });
});

describe('provider keys in the log of a running service', () => {
  it("when both vendors answer notices quoting their keys, then the warn log names the failures but neither key", async () => {
    const upstream = await startUpstream();
    for (const vendor of ['alphavantage', 'twelvedata'] as Vendor[]) upstream.set(vendor, 'IBM', { kind: 'quotes_key' });
    const env = providerEnv(upstream);
    const port = await freePort();
    const run = runEntry('src/main.ts', {
      ...env,
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(inject('sqliteDir'), `redaction-${port}.db`)}`,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/health`, run);
    const registered = await fetch(`${base}/api/v1/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Dave', last_name: 'Mustaine', email: 'dave@example.com' }),
    });
    const key = (await registered.json()) as string;
    const quote = await fetch(`${base}/api/v1/symbol/IBM/`, { headers: { authorization: `Token ${key}` } });
    expect(quote.status).toBe(502);
    expect(upstream.keys).toEqual({ alphavantage: [env.ALPHAVANTAGE_API_KEY], twelvedata: [env.TWELVEDATA_API_KEY] });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const warnings = run.output().split('\n').filter((line) => line.includes('market-data provider failed'));
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('[REDACTED]');
    expect(run.output()).not.toContain(env.ALPHAVANTAGE_API_KEY);
    expect(run.output()).not.toContain(env.TWELVEDATA_API_KEY);
  });
});

describe('redacting a provider key', () => {
  it('replaces the key as is and URL-encoded, wherever it appears', async () => {
    const { redact } = await import('../src/adapters/providers/vendor-client.js');
    const key = 'k+y/1=';
    expect(redact(`bad key ${key}; see https://x/query?apikey=${encodeURIComponent(key)}&a=${key}`, key)).toBe(
      'bad key [REDACTED]; see https://x/query?apikey=[REDACTED]&a=[REDACTED]',
    );
    expect(redact('nothing secret here', key)).toBe('nothing secret here');
  });

  it('replaces the key in any case, as a vendor may upper-case what it quotes', async () => {
    const { redact } = await import('../src/adapters/providers/vendor-client.js');
    expect(redact('key=S3CR+ET/KEY, key=s3cr%2Bet%2Fkey', 's3cr+et/key')).toBe('key=[REDACTED], key=[REDACTED]');
  });
});
