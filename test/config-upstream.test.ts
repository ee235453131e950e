import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const keys = { ALPHAVANTAGE_API_KEY: 'a', TWELVEDATA_API_KEY: 't' };

describe('provider quotas and the fair share in the configuration', () => {
  it("when nothing is set, then the free tiers apply: Alpha Vantage 25 a day, Twelve Data 800 a day and 8 a minute; a fifth of the day's calls left, 0.6 of the minute's", () => {
    const config = loadConfig(keys);
    expect(config.providers.map((p) => [p.name, p.quota])).toEqual([
      ['alphavantage', { perDay: 25, perMinute: 0 }],
      ['twelvedata', { perDay: 800, perMinute: 8 }],
    ]);
    expect(config.upstreamFairShare).toBe(0.2);
    expect(config.upstreamMinuteFairShare).toBe(0.6);
  });

  it('when set, then they are used; 0 is no limit', () => {
    const config = loadConfig({
      ...keys,
      ALPHAVANTAGE_DAILY_LIMIT: '0',
      ALPHAVANTAGE_MINUTE_LIMIT: '75',
      TWELVEDATA_DAILY_LIMIT: '5000',
      TWELVEDATA_MINUTE_LIMIT: '55',
      UPSTREAM_FAIR_SHARE: '0.5',
      UPSTREAM_MINUTE_FAIR_SHARE: '0.25',
    });
    expect(config.providers.map((p) => p.quota)).toEqual([
      { perDay: 0, perMinute: 75 },
      { perDay: 5000, perMinute: 55 },
    ]);
    expect(config.upstreamFairShare).toBe(0.5);
    expect(config.upstreamMinuteFairShare).toBe(0.25);
  });

  it.each([
    ['ALPHAVANTAGE_DAILY_LIMIT', '-1'],
    ['TWELVEDATA_MINUTE_LIMIT', 'eight'],
    ['UPSTREAM_FAIR_SHARE', '0'],
    ['UPSTREAM_FAIR_SHARE', '1.5'],
    ['UPSTREAM_FAIR_SHARE', '20%'],
    ['UPSTREAM_MINUTE_FAIR_SHARE', '0'],
  ])('when %s is %s, then the configuration is refused, naming it', (variable, value) => {
    expect(() => loadConfig({ ...keys, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...keys, [variable]: value })).toThrow(variable);
  });
});

describe('the pass-through in the configuration', () => {
  it('when nothing is set, then answers of up to 4 MiB are kept, 256 MiB of them in all', () => {
    expect(loadConfig(keys).passThrough).toEqual({ maxAnswerBytes: 4 * 1024 * 1024, cacheMaxBytes: 256 * 1024 * 1024 });
    expect(loadConfig({ ...keys, PASS_THROUGH_MAX_ANSWER_BYTES: '1024', PASS_THROUGH_CACHE_MAX_BYTES: '1024' }).passThrough).toEqual({ maxAnswerBytes: 1024, cacheMaxBytes: 1024 });
  });

  it.each([
    ['PASS_THROUGH_MAX_ANSWER_BYTES', '1023'],
    // More than the vendor client ever reads of an answer.
    ['PASS_THROUGH_MAX_ANSWER_BYTES', String(8 * 1024 * 1024 + 1)],
    ['PASS_THROUGH_CACHE_MAX_BYTES', 'lots'],
    // Less than the largest answer kept: that answer would be evicted as it is kept.
    ['PASS_THROUGH_CACHE_MAX_BYTES', String(4 * 1024 * 1024 - 1)],
  ])('when %s is %s, then the configuration is refused, naming it', (variable, value) => {
    expect(() => loadConfig({ ...keys, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...keys, [variable]: value })).toThrow(variable);
  });
});
