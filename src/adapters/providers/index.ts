import type { MarketDataProvider } from '../../app/market-data/providers.js';
import type { ProviderQuota } from '../../app/market-data/upstream-budget.js';
import type { Config, ProviderConfig } from '../../config.js';
import { createAlphaVantageProvider } from './alpha-vantage.js';
import { createTwelveDataProvider } from './twelve-data.js';

/** The configured real providers, in failover order. */
export function createProviders(config: Pick<Config, 'providers' | 'providerTimeoutMs' | 'passThrough'>): MarketDataProvider[] {
  return config.providers.map((provider: ProviderConfig) => {
    const options = { apiKey: provider.apiKey, baseUrl: provider.baseUrl, timeoutMs: config.providerTimeoutMs };
    return provider.name === 'alphavantage'
      ? createAlphaVantageProvider({ ...options, passThroughMaxBytes: config.passThrough.maxAnswerBytes })
      : createTwelveDataProvider(options);
  });
}

/** Each configured provider's quota on our key, by provider name; the sandbox has none (unlimited). */
export function providerQuotas(config: Pick<Config, 'providers'>): Record<string, ProviderQuota> {
  return Object.fromEntries(config.providers.map((provider) => [provider.name, provider.quota]));
}
