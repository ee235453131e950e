import type { MarketDataProvider } from '../../app/market-data.js';
import type { Config, ProviderConfig } from '../../config.js';
import { createAlphaVantageProvider } from './alpha-vantage.js';
import { createTwelveDataProvider } from './twelve-data.js';

/** The configured real providers, in failover order. */
export function createProviders(config: Pick<Config, 'providers' | 'providerTimeoutMs'>): MarketDataProvider[] {
  return config.providers.map((provider: ProviderConfig) => {
    const options = { apiKey: provider.apiKey, baseUrl: provider.baseUrl, timeoutMs: config.providerTimeoutMs };
    return provider.name === 'alphavantage' ? createAlphaVantageProvider(options) : createTwelveDataProvider(options);
  });
}
