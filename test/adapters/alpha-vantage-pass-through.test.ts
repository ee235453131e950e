import { describe, expect, it } from 'vitest';
import { createAlphaVantageProvider } from '../../src/adapters/providers/alpha-vantage.js';
import { ProviderError, type ProviderFailure } from '../../src/app/market-data/providers.js';
import { passThroughQuery } from '../../src/domain/alpha-vantage-functions.js';
import { avPremiumNotice, type Behavior, startUpstream } from '../support/upstream.js';

const KEY = 'secret-key';

async function adapter(options: { passThroughMaxBytes?: number } = {}) {
  const upstream = await startUpstream();
  const provider = createAlphaVantageProvider({ apiKey: KEY, baseUrl: upstream.url, timeoutMs: 5000, ...options });
  const passThrough = (name: string, parameters: Record<string, string> = {}) => provider.passThrough!(passThroughQuery(name, Object.entries(parameters)));
  return { upstream, passThrough };
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("the Alpha Vantage adapter's pass-through", () => {
  it('when Alpha Vantage answers data, then it comes back as it wrote it, asked with the parameters given and our key', async () => {
    const { upstream, passThrough } = await adapter();
    const answer = await passThrough('FX_DAILY', { from_symbol: 'EUR', to_symbol: 'USD' });
    expect(answer).toMatchObject({ kind: 'data', format: 'json' });
    expect(answer.kind !== 'too_large' && JSON.parse(answer.body)['Meta Data']['2. From Symbol']).toBe('EUR');
    expect(upstream.passThroughCalls).toEqual([{ function: 'FX_DAILY', params: [['from_symbol', 'EUR'], ['to_symbol', 'USD']], key: KEY }]);
  });

  it('when CSV is asked, then the CSV comes back as text', async () => {
    const { passThrough } = await adapter();
    expect(await passThrough('REAL_GDP', { datatype: 'csv' })).toEqual({ kind: 'data', format: 'csv', body: 'timestamp,value\r\n2021-01-01,19609.812\r\n2020-01-01,18509.143\r\n' });
  });

  it('when Alpha Vantage says the call is invalid, then its "Error Message" is the answer', async () => {
    const { passThrough } = await adapter();
    const answer = await passThrough('OVERVIEW');
    expect(answer).toMatchObject({ kind: 'error', format: 'json' });
    expect(answer.kind !== 'too_large' && JSON.parse(answer.body)).toEqual({
      'Error Message': 'Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for OVERVIEW.',
    });
  });

  it('when the function is premium, then its notice is the answer', async () => {
    const { passThrough } = await adapter();
    const answer = await passThrough('REALTIME_BULK_QUOTES', { symbol: 'IBM,AAPL' });
    expect(answer).toMatchObject({ kind: 'premium', format: 'json' });
    expect(answer.kind !== 'too_large' && JSON.parse(answer.body)).toEqual({ Information: avPremiumNotice });
  });

  it('when a parameter value is premium on the key, then that notice is a premium notice too', async () => {
    const { upstream, passThrough } = await adapter();
    const notice =
      'Thank you for using Alpha Vantage! The **outputsize=full** parameter value is a premium feature for the TIME_SERIES_INTRADAY endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium features';
    upstream.setPassThrough('TIME_SERIES_INTRADAY', { kind: 'json', body: { Information: notice } });
    expect(await passThrough('TIME_SERIES_INTRADAY', { symbol: 'IBM', interval: '5min', outputsize: 'full' })).toMatchObject({ kind: 'premium' });
  });

  it('when Alpha Vantage answers a notice it has not said before, then the notice is the answer', async () => {
    const { upstream, passThrough } = await adapter();
    upstream.setPassThrough('EARNINGS', { kind: 'json', body: { Information: 'This function is being upgraded; please try again tomorrow.' } });
    expect(await passThrough('EARNINGS', { symbol: 'IBM' })).toMatchObject({ kind: 'notice' });
  });

  it('when data carries an "Information" field of its own, then it is data', async () => {
    const { upstream, passThrough } = await adapter();
    upstream.setPassThrough('TOP_GAINERS_LOSERS', { kind: 'json', body: { metadata: 'Top gainers', Information: 'delayed', top_gainers: [] } });
    expect(await passThrough('TOP_GAINERS_LOSERS')).toMatchObject({ kind: 'data' });
  });

  it.each<[Behavior['kind'], ProviderFailure]>([
    ['rate_limited', 'rate_limited'],
    ['daily_limit', 'rate_limited'],
    ['burst', 'rate_limited'],
    ['bad_key', 'unavailable'],
    ['quotes_key', 'unavailable'],
    ['http_500', 'unavailable'],
    ['html', 'unavailable'],
    ['malformed_json', 'unavailable'],
  ])('when Alpha Vantage answers %s, then the call fails %s and nothing is an answer', async (kind, failure) => {
    const { upstream, passThrough } = await adapter();
    upstream.setPassThrough('OVERVIEW', { kind } as Behavior);
    const error = await failureOf(passThrough('OVERVIEW', { symbol: 'IBM' }));
    expect(error.failure).toBe(failure);
    expect(error.message).not.toContain(KEY);
    if (failure === 'rate_limited') expect(error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('when JSON was due and text came, then the call fails; when CSV was asked, text is the answer, but never an HTML page', async () => {
    const { upstream, passThrough } = await adapter();
    upstream.setPassThrough('EARNINGS', { kind: 'json', body: 'a,b' }); // sent as "a,b": no object, no array
    expect((await failureOf(passThrough('EARNINGS', { symbol: 'IBM' }))).failure).toBe('unavailable');
    expect(await passThrough('EARNINGS', { symbol: 'IBM', datatype: 'csv' })).toEqual({ kind: 'data', format: 'csv', body: '"a,b"' });
    upstream.setPassThrough('EARNINGS', { kind: 'html' });
    expect((await failureOf(passThrough('EARNINGS', { symbol: 'IBM', datatype: 'csv' }))).failure).toBe('unavailable');
  });

  it('when an answer quotes our key, then the key is redacted from what is passed back', async () => {
    const { upstream, passThrough } = await adapter();
    upstream.setPassThrough('OVERVIEW', { kind: 'json', body: { Symbol: 'IBM', Description: `asked with ${KEY}` } });
    const answer = await passThrough('OVERVIEW', { symbol: 'IBM' });
    expect(answer.kind !== 'too_large' && answer.body).toBe(JSON.stringify({ Symbol: 'IBM', Description: 'asked with [REDACTED]' }));
  });

  it('when an answer is longer than the bound, then it is not read: the answer says so', async () => {
    const { upstream, passThrough } = await adapter({ passThroughMaxBytes: 1024 });
    upstream.setPassThrough('OVERVIEW', { kind: 'json', body: { Symbol: 'IBM', Description: 'x'.repeat(2000) } });
    expect(await passThrough('OVERVIEW', { symbol: 'IBM' })).toEqual({ kind: 'too_large' });
  });
});
