import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults to port 8000 and the SQLite file under ./data', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8000);
    expect(config.database).toEqual({ engine: 'sqlite', path: './data/stock-market.db' });
    expect(config.logLevel).toBe('info');
  });

  it('accepts sqlite paths, in-memory SQLite and both PostgreSQL schemes', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ engine: 'sqlite', path: ':memory:' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ engine: 'sqlite', path: '/tmp/x.db' });
    for (const url of ['postgres://u@h:5432/db', 'postgresql://u@h/db']) {
      expect(loadConfig({ DATABASE_URL: url }).database).toMatchObject({ engine: 'postgres', url });
    }
  });

  it('bounds PostgreSQL: 10 connections, 10 s per statement and 5 s to get a connection unless told otherwise', () => {
    const url = 'postgres://u@h/db';
    expect(loadConfig({ DATABASE_URL: url }).database).toEqual({
      engine: 'postgres',
      url,
      poolSize: 10,
      statementTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
    });
    const env = { DATABASE_URL: url, DATABASE_POOL_SIZE: '40', DATABASE_STATEMENT_TIMEOUT_MS: '0', DATABASE_CONNECT_TIMEOUT_MS: '1500' };
    expect(loadConfig(env).database).toMatchObject({ poolSize: 40, statementTimeoutMs: 0, connectTimeoutMs: 1500 });
  });

  it('orders providers as MARKET_DATA_PROVIDERS says, and otherwise uses every one with a key', () => {
    const keys = { ALPHAVANTAGE_API_KEY: 'a', TWELVEDATA_API_KEY: 't' };
    expect(loadConfig(keys).providers.map((p) => p.name)).toEqual(['alphavantage', 'twelvedata']);
    expect(loadConfig({ ...keys, MARKET_DATA_PROVIDERS: 'twelvedata, alphavantage' }).providers.map((p) => p.name)).toEqual(['twelvedata', 'alphavantage']);
    expect(loadConfig({ TWELVEDATA_API_KEY: 't' }).providers).toMatchObject([{ name: 'twelvedata', baseUrl: 'https://api.twelvedata.com' }]);
    expect(loadConfig({}).providers).toEqual([]);
  });

  it('reads the throttle rates, defaulting to the original 100/day and 1000/day', () => {
    expect(loadConfig({}).throttle).toEqual({
      anon: { limit: 100, windowMs: 86_400_000, text: '100/day' },
      user: { limit: 1000, windowMs: 86_400_000, text: '1000/day' },
      register: { limit: 10, windowMs: 86_400_000, text: '10/day' },
      keys: { limit: 10, windowMs: 86_400_000, text: '10/day' },
      trades: { limit: 10_000, windowMs: 86_400_000, text: '10000/day' },
      ipv6Prefix: 64,
    });
    expect(loadConfig({ THROTTLE_TRADES: '10/minute' }).throttle.trades).toMatchObject({ limit: 10, windowMs: 60_000 });
    expect(loadConfig({}).throttle.trades).toMatchObject({ limit: 10_000, windowMs: 86_400_000 });
    expect(loadConfig({ THROTTLE_TRADES: 'off' }).throttle.trades).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc', /PORT must be an integer from 0 to 65535/],
    ['PORT', '70000', /PORT must be an integer/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be sqlite:PATH/],
    ['DATABASE_URL', 'sqlite:', /DATABASE_URL/],
    ['DATABASE_POOL_SIZE', '0', /DATABASE_POOL_SIZE must be an integer from 1 to 1000/],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '10s', /DATABASE_STATEMENT_TIMEOUT_MS must be an integer from 0 to 3600000/],
    ['DATABASE_CONNECT_TIMEOUT_MS', '50', /DATABASE_CONNECT_TIMEOUT_MS must be an integer from 100 to 120000/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of fatal, error/],
    ['BODY_LIMIT_BYTES', '-1', /BODY_LIMIT_BYTES must be an integer/],
    ['THROTTLE_ANON', '100/week', /THROTTLE_ANON must be a rate as N\/second, N\/minute, N\/hour or N\/day/],
    ['THROTTLE_USER', 'lots', /THROTTLE_USER must be a rate/],
    ['THROTTLE_TRADES', '0/day', /THROTTLE_TRADES must be a rate/],
    ['THROTTLE_REGISTER', '5/fortnight', /THROTTLE_REGISTER must be a rate/],
    ['THROTTLE_KEYS', 'ten/day', /THROTTLE_KEYS must be a rate/],
    ['THROTTLE_IPV6_PREFIX', '16', /THROTTLE_IPV6_PREFIX must be an integer from 32 to 128/],
    ['TRUST_PROXY', 'yes', /TRUST_PROXY must be an integer from 0 to 32/],
    ['REDIS_URL', 'localhost:6379', /REDIS_URL must be redis:\/\/host:port/],
    ['RATE_LIMIT_ON_STORE_FAILURE', 'panic', /RATE_LIMIT_ON_STORE_FAILURE must be one of allow, deny/],
    ['CORS_ORIGINS', 'https://a.example/path', /CORS_ORIGINS must be a comma-separated list of origins/],
    ['MARKET_DATA_PROVIDERS', 'yahoo', /MARKET_DATA_PROVIDERS must be a comma-separated list of alphavantage, twelvedata/],
    ['MARKET_DATA_PROVIDERS', 'twelvedata', /TWELVEDATA_API_KEY must be set, since MARKET_DATA_PROVIDERS lists twelvedata/],
    ['QUOTE_REFRESH_SECONDS', '0', /QUOTE_REFRESH_SECONDS must be an integer from 1/],
    ['PREFETCH', 'yes', /PREFETCH must be one of on, off/],
    ['PREFETCH_WINDOW_DAYS', '0', /PREFETCH_WINDOW_DAYS must be an integer from 1 to 366/],
    ['PREFETCH_RESERVE', '0', /PREFETCH_RESERVE must be a number greater than 0 and at most 1/],
    ['PREFETCH_RESERVE', '1.5', /PREFETCH_RESERVE must be a number greater than 0/],
    ['PREFETCH_DELAY_SECONDS', '-5', /PREFETCH_DELAY_SECONDS must be an integer from 0/],
    ['PREFETCH_RETRY_SECONDS', '5', /PREFETCH_RETRY_SECONDS must be an integer from 10/],
    ['METRICS_TOKEN', 'two words', /METRICS_TOKEN must be visible ASCII characters without spaces/],
    ['METRICS_TOKEN', 'jetón', /METRICS_TOKEN must be visible ASCII/],
  ])('refuses %s=%s with one line naming the variable', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});

describe('the after-close prefetch', () => {
  it('is on by default with a real provider and off with the sandbox, keeping a fifth of each quota for lookups', () => {
    const defaults = { windowDays: 7, reserve: 0.2, delaySeconds: 60, retrySeconds: 300 };
    expect(loadConfig({ TWELVEDATA_API_KEY: 't' }).prefetch).toEqual({ enabled: true, ...defaults });
    expect(loadConfig({}).prefetch).toEqual({ enabled: false, ...defaults });
    expect(loadConfig({ TWELVEDATA_API_KEY: 't', PREFETCH: 'off' }).prefetch.enabled).toBe(false);
    expect(loadConfig({ PREFETCH: 'on' }).prefetch.enabled).toBe(true);
  });

  it('reads the window, reserve, delay and retry interval', () => {
    const env = { PREFETCH_WINDOW_DAYS: '30', PREFETCH_RESERVE: '0.5', PREFETCH_DELAY_SECONDS: '0', PREFETCH_RETRY_SECONDS: '60' };
    expect(loadConfig(env).prefetch).toEqual({ enabled: false, windowDays: 30, reserve: 0.5, delaySeconds: 0, retrySeconds: 60 });
  });
});

describe('the metrics token', () => {
  it('is unset by default (/metrics open) and read trimmed when set', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: '  s3cret-token  ' }).metricsToken).toBe('s3cret-token');
  });

  it('is never echoed when refused: the error (printed at start, kept in logs) names the variable, not the secret', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'correct horse battery' })).toThrow(/METRICS_TOKEN must be visible ASCII/);
    expect(() => loadConfig({ METRICS_TOKEN: 'correct horse battery' })).not.toThrow(/horse/);
  });
});

describe('credentials in URLs', () => {
  it.each([
    ['DATABASE_URL', 'postgress://app:hunter2@db:5432/stocks'],
    ['REDIS_URL', 'redis//:hunter2@cache:6379'],
  ])('are never echoed when %s is refused', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name} must be`));
    expect(() => loadConfig({ [name]: value })).not.toThrow(/hunter2/);
  });
});

describe('server limits', () => {
  it('default to what the docs promise: 10 s for headers, 30 s per request, 10,000 connections, a 50 s budget for answers', () => {
    expect(loadConfig({}).serverLimits).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000, requestBudgetMs: 50_000 });
  });

  it('refuse a request budget the idle connection close (60 s) would cut, naming the variable', () => {
    expect(() => loadConfig({ REQUEST_BUDGET_MS: '60000' })).toThrow('Invalid configuration: REQUEST_BUDGET_MS must be an integer from 100 to 55000 (got "60000")');
  });

  it('refuse a headers timeout longer than the request timeout, naming the variable', () => {
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' })).toThrow(
      'Invalid configuration: HEADERS_TIMEOUT_MS must be an integer from 100 to 5000 (got "6000")',
    );
    expect(() => loadConfig({ MAX_CONNECTIONS: '0' })).toThrow(/MAX_CONNECTIONS must be an integer from 1/);
  });
});

describe('WEB_CONCURRENCY', () => {
  const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };

  it('when unset, then one process; a number or auto (one per core) asks for that many workers', async () => {
    const { availableParallelism } = await import('node:os');
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ ...redis, WEB_CONCURRENCY: '3' }).workers).toBe(3);
    expect(loadConfig({ ...redis, WEB_CONCURRENCY: 'auto' }).workers).toBe(availableParallelism());
    expect(() => loadConfig({ WEB_CONCURRENCY: 'many' })).toThrow('Invalid configuration: WEB_CONCURRENCY must be an integer from 1 to 1024 (got "many")');
  });

  it('when above 1 without REDIS_URL, then start is refused in one line naming REDIS_URL', () => {
    expect(() => loadConfig({ WEB_CONCURRENCY: '2' })).toThrow(
      'Invalid configuration: WEB_CONCURRENCY=2 needs REDIS_URL: without Redis each worker would keep its own throttle counts (2 times every limit) and its own key revocations',
    );
  });

  it('when above 1 on an in-memory SQLite database, then start is refused: each worker would have its own', () => {
    expect(() => loadConfig({ ...redis, WEB_CONCURRENCY: '2', DATABASE_URL: 'sqlite::memory:' })).toThrow(/needs a database the workers share: sqlite::memory: is one per process/);
    expect(loadConfig({ ...redis, WEB_CONCURRENCY: '2', DATABASE_URL: 'sqlite:/tmp/shared.db' }).workers).toBe(2);
  });
});
