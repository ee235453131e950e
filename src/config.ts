/**
 * Environment → typed, validated configuration. A wrong value stops the
 * process with one line naming the variable and what it accepts.
 */

import { availableParallelism } from 'node:os';
import type { WorkShareLimits } from './app/work-shares.js';
import { parseRate, RATE_SYNTAX, type Rate } from './domain/throttle.js';

/** How an instance uses PostgreSQL: bounds that keep a request from waiting on a database that is away or stuck. */
export interface PostgresLimits {
  poolSize: number;
  /** The server cancels a statement running longer (0: never). */
  statementTimeoutMs: number;
  /** How long to wait for a connection, new or from the full pool, before giving up. */
  connectTimeoutMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS = { statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 };

/**
 * How long a shutdown waits for requests in flight (SHUTDOWN_TIMEOUT_MS). Under Kubernetes' 30 s
 * grace period; a process manager must wait longer (compose.yaml's stop_grace_period is checked
 * against this by test/deploy/compose.test.ts).
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

export type DatabaseTarget = { engine: 'sqlite'; path: string } | ({ engine: 'postgres'; url: string } & PostgresLimits);

export const PROVIDER_NAMES = ['alphavantage', 'twelvedata'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderConfig {
  name: ProviderName;
  apiKey: string;
  baseUrl: string;
  /** The vendor's quota on our key; 0 means no such limit (a paid plan). */
  quota: { perDay: number; perMinute: number };
}

/** What a client meets at the socket, before any route (README, "Connections, timeouts and the request log"). */
export interface ServerLimits {
  /** From connection (or the end of the previous request) to the last header byte. */
  headersTimeoutMs: number;
  /** From connection to the last body byte. */
  requestTimeoutMs: number;
  /** Open connections at once; past it, a new connection is closed at once, unanswered. */
  maxConnections: number;
  /**
   * How long a request may wait for market data before it answers with what it has (the symbols still
   * being fetched marked 504, or a 504 when it has nothing): below the 60 s after which the server closes
   * a connection on which nothing moves (server-limits.ts), so no answer is ever cut to nothing.
   */
  requestBudgetMs: number;
}

/** The after-close refresh of symbols clients asked for recently (README, "Fresh before anyone asks"). */
export interface PrefetchConfig {
  enabled: boolean;
  /** Symbols asked for in this many days are refreshed. */
  windowDays: number;
  /** The fraction of each provider's quota the prefetch leaves for clients' lookups. */
  reserve: number;
  /** How long after a session's bar is final (17:00 New York, 14:00 after an early close) the run starts. */
  delaySeconds: number;
  /** How soon a run that did not complete is tried again (and how soon a new instance first tries). */
  retrySeconds: number;
}

/** Alpha Vantage calls the store does not serve, passed through and kept (README, "Alpha Vantage–compatible gateway"). */
export interface PassThroughConfig {
  /** The longest answer kept; a longer one is refused, in Alpha Vantage's shape, and that refusal kept. */
  maxAnswerBytes: number;
  /** The most body bytes kept, every answer together; the oldest fetched go first. */
  cacheMaxBytes: number;
}

export interface Config {
  /** Processes serving the port (node:cluster); 1 is a single process, no cluster primary. */
  workers: number;
  port: number;
  host: string;
  database: DatabaseTarget;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  /** Real providers in failover order; empty means the offline sandbox. */
  providers: ProviderConfig[];
  providerTimeoutMs: number;
  /** The fraction of a provider's calls left today one client may spend on symbols the store does not hold. */
  upstreamFairShare: number;
  upstreamMinuteFairShare: number;
  quoteRefreshSeconds: number;
  authCacheSeconds: number;
  /** How long an Idempotency-Key's answer is kept and replayed. */
  idempotencyTtlSeconds: number;
  /** The trades one portfolio request folds at most; more is a 400 on user_id. */
  portfolioMaxTrades: number;
  throttle: {
    anon: Rate;
    user: Rate;
    /** Registrations per client address, on top of the anonymous rate. */
    register: Rate;
    /** Key rotations and revocations per account, on top of the account's rate. */
    keys: Rate;
    /** `off`: the ledger is not throttled. */
    trades: Rate | undefined;
    /** IPv6 clients are counted per network of this many leading bits (one host holds a whole /64). */
    ipv6Prefix: number;
  };
  /** How many proxies in front of the service append to X-Forwarded-For (DRF's NUM_PROXIES); 0 believes none. */
  trustProxy: number;
  /** Shared rate-limit store; unset keeps counts in-process. */
  redisUrl: string | undefined;
  /** Namespace of this deployment's keys and channels in Redis. */
  redisKeyPrefix: string;
  onRateLimitStoreFailure: 'allow' | 'deny';
  apiCallsLogPath: string;
  /** Timeouts and the connection cap a client meets at the socket. */
  serverLimits: ServerLimits;
  /** How many expensive requests run at once per client and for anonymous clients together (app/work-shares.ts). */
  workShares: WorkShareLimits;
  /** On SIGTERM, requests still in flight this long after have their connections closed, unanswered. */
  shutdownTimeoutMs: number;
  /** Origins allowed by CORS; empty means CORS is off. */
  corsOrigins: string[];
  prefetch: PrefetchConfig;
  passThrough: PassThroughConfig;
  /** Bearer token GET /metrics asks for; unset, /metrics is open (keep it off the public network). */
  metricsToken: string | undefined;
}

interface ProviderEnv {
  key: string;
  url: string;
  defaultUrl: string;
  /** Free-tier quotas, as each vendor documents them. */
  perDay: { name: string; fallback: number };
  perMinute: { name: string; fallback: number };
}

const PROVIDER_ENV: Record<ProviderName, ProviderEnv> = {
  alphavantage: {
    key: 'ALPHAVANTAGE_API_KEY',
    url: 'ALPHAVANTAGE_BASE_URL',
    defaultUrl: 'https://www.alphavantage.co',
    perDay: { name: 'ALPHAVANTAGE_DAILY_LIMIT', fallback: 25 },
    // The free key documents no per-minute limit any more (25 a day is the only one); premium keys have one.
    perMinute: { name: 'ALPHAVANTAGE_MINUTE_LIMIT', fallback: 0 },
  },
  twelvedata: {
    key: 'TWELVEDATA_API_KEY',
    url: 'TWELVEDATA_BASE_URL',
    defaultUrl: 'https://api.twelvedata.com',
    perDay: { name: 'TWELVEDATA_DAILY_LIMIT', fallback: 800 },
    perMinute: { name: 'TWELVEDATA_MINUTE_LIMIT', fallback: 8 },
  },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    /** Undefined for a secret: the message is printed at start and kept in logs, so it never holds one. */
    received: string | undefined,
  ) {
    super(`Invalid configuration: ${variable} must be ${expected} (${received === undefined ? 'the value is a secret: not shown' : `got ${JSON.stringify(received)}`})`);
    this.name = 'ConfigError';
  }

  /** A value valid alone that another setting rules out: the message says why, in one line. */
  static conflict(variable: string, why: string): ConfigError {
    const error = new ConfigError(variable, '', '');
    error.message = `Invalid configuration: ${why}`;
    return error;
  }
}

type Env = Record<string, string | undefined>;

/** A URL as an error may show it: a password (`user:pw@`, `:pw@`) replaced, even in a URL too malformed to parse. */
const withoutPassword = (url: string) => url.replace(/:[^:@/]*@/g, ':***@');

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

function readFraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\s*(0?\.\d+|1(\.0*)?)\s*$/.test(raw) || !(value > 0 && value <= 1)) {
    throw new ConfigError(name, 'a number greater than 0 and at most 1, e.g. 0.2', raw);
  }
  return value;
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!choices.includes(raw as T)) throw new ConfigError(name, `one of ${choices.join(', ')}`, raw);
  return raw as T;
}

function readRate(env: Env, name: string, fallback: string | undefined): Rate | undefined {
  const raw = env[name]?.trim() || fallback;
  if (raw === undefined) return undefined;
  const rate = parseRate(raw);
  if (!rate) throw new ConfigError(name, RATE_SYNTAX, raw);
  return rate;
}

/** The ledger's default allowance per client address (docs/reference/throttling.md says why this number). */
export const THROTTLE_TRADES_DEFAULT = '10000/day';

/** A rate, or `off` for none. */
function readRateOrOff(env: Env, name: string, fallback: string): Rate | undefined {
  const raw = env[name]?.trim() || fallback;
  if (raw.toLowerCase() === 'off') return undefined;
  const rate = parseRate(raw);
  if (!rate) throw new ConfigError(name, `${RATE_SYNTAX}, or off`, raw);
  return rate;
}

function readRedisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  if (!/^rediss?:\/\/./.test(raw)) throw new ConfigError('REDIS_URL', 'redis://host:port[/db] or rediss://…', withoutPassword(raw));
  return raw;
}

/** WEB_CONCURRENCY: a count of workers, or `auto` for one per core. */
function readWorkers(env: Env): number {
  const raw = env.WEB_CONCURRENCY?.trim();
  if (raw === 'auto') return availableParallelism();
  return readInteger(env, 'WEB_CONCURRENCY', 1, 1, 1024);
}

/**
 * Several workers must share what limits and caches a client: throttle counts
 * kept in-process would be per worker (N workers, N times each limit), and a
 * rotated key would be refused by one worker while the others' caches still
 * take it. An in-memory SQLite database would be one per worker.
 */
function checkWorkersShareState(config: Config): void {
  if (config.workers === 1) return;
  const asked = `WEB_CONCURRENCY=${config.workers}`;
  if (!config.redisUrl) {
    throw ConfigError.conflict(
      'REDIS_URL',
      `${asked} needs REDIS_URL: without Redis each worker would keep its own throttle counts (${config.workers} times every limit) and its own key revocations`,
    );
  }
  if (config.database.engine === 'sqlite' && config.database.path === ':memory:') {
    throw ConfigError.conflict('DATABASE_URL', `${asked} needs a database the workers share: sqlite::memory: is one per process; use sqlite:PATH or postgres://…`);
  }
}

function readOrigins(env: Env): string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return [];
  return raw.split(',').map((origin) => {
    const trimmed = origin.trim();
    try {
      const url = new URL(trimmed);
      if (url.origin === trimmed) return trimmed;
    } catch {
      // falls through to the error below
    }
    throw new ConfigError('CORS_ORIGINS', 'a comma-separated list of origins such as https://app.example.com', raw);
  });
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/stock-market.db';

export function parseDatabaseUrl(
  raw: string,
  poolSize = 10,
  timeouts: Omit<PostgresLimits, 'poolSize'> = DEFAULT_POSTGRES_TIMEOUTS,
): DatabaseTarget {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length);
    if (path.length > 0) return { engine: 'sqlite', path };
  } else if (/^postgres(ql)?:\/\/./.test(raw)) {
    try {
      new URL(raw);
      return { engine: 'postgres', url: raw, poolSize, ...timeouts };
    } catch {
      // falls through to the error below
    }
  }
  throw new ConfigError('DATABASE_URL', 'sqlite:PATH, sqlite::memory: or postgres://user@host:port/database', withoutPassword(raw));
}

function readUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return raw;
  } catch {
    // falls through to the error below
  }
  throw new ConfigError(name, 'an http:// or https:// URL', withoutPassword(raw));
}

/**
 * MARKET_DATA_PROVIDERS orders the real providers; unset, every provider with
 * a key is used (Alpha Vantage first). A listed provider must have its key.
 */
function readProviders(env: Env): ProviderConfig[] {
  const listed = env.MARKET_DATA_PROVIDERS?.trim();
  const names = listed
    ? listed.split(',').map((n) => n.trim().toLowerCase())
    : PROVIDER_NAMES.filter((n) => env[PROVIDER_ENV[n].key]?.trim());
  return names.map((name) => {
    if (!PROVIDER_NAMES.includes(name as ProviderName)) {
      throw new ConfigError('MARKET_DATA_PROVIDERS', `a comma-separated list of ${PROVIDER_NAMES.join(', ')}`, listed ?? '');
    }
    const vars = PROVIDER_ENV[name as ProviderName];
    const apiKey = env[vars.key]?.trim();
    if (!apiKey) throw new ConfigError(vars.key, `set, since MARKET_DATA_PROVIDERS lists ${name}`, '');
    return {
      name: name as ProviderName,
      apiKey,
      baseUrl: readUrl(env, vars.url, vars.defaultUrl),
      quota: {
        perDay: readInteger(env, vars.perDay.name, vars.perDay.fallback, 0, 100_000_000),
        perMinute: readInteger(env, vars.perMinute.name, vars.perMinute.fallback, 0, 1_000_000),
      },
    };
  });
}

/** Node refuses a headers timeout longer than the request timeout: said here, naming the variable. */
function readServerLimits(env: Env): ServerLimits {
  const requestTimeoutMs = readInteger(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const headersTimeoutMs = readInteger(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, requestTimeoutMs);
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    maxConnections: readInteger(env, 'MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    // At most 55 s: an answer must leave before the idle connection's 60 s close, with time to write it.
    requestBudgetMs: readInteger(env, 'REQUEST_BUDGET_MS', 50_000, 100, 55_000),
  };
}

/** A token a client can send in a header: visible ASCII, no spaces (else no scraper could present it). */
function readMetricsToken(env: Env): string | undefined {
  const raw = env.METRICS_TOKEN?.trim();
  if (!raw) return undefined;
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new ConfigError('METRICS_TOKEN', 'visible ASCII characters without spaces', undefined);
  return raw;
}

/** On by default only with a real provider: the sandbox's synthetic bars are nothing to spend a run on. */
function readPrefetch(env: Env, providers: ProviderConfig[]): PrefetchConfig {
  return {
    enabled: readChoice(env, 'PREFETCH', ['on', 'off'] as const, providers.length > 0 ? 'on' : 'off') === 'on',
    windowDays: readInteger(env, 'PREFETCH_WINDOW_DAYS', 7, 1, 366),
    reserve: readFraction(env, 'PREFETCH_RESERVE', 0.2),
    delaySeconds: readInteger(env, 'PREFETCH_DELAY_SECONDS', 60, 0, 6 * 3600),
    retrySeconds: readInteger(env, 'PREFETCH_RETRY_SECONDS', 300, 10, 86_400),
  };
}

const MIB = 1024 * 1024;

/** The cache holds at least one answer of the largest size, or that answer would be evicted as it is kept. */
function readPassThrough(env: Env): PassThroughConfig {
  // 8 MiB: the most the vendor client reads of any answer.
  const maxAnswerBytes = readInteger(env, 'PASS_THROUGH_MAX_ANSWER_BYTES', 4 * MIB, 1024, 8 * MIB);
  const cacheMaxBytes = readInteger(env, 'PASS_THROUGH_CACHE_MAX_BYTES', 256 * MIB, 1024, 1024 * 1024 * MIB);
  if (cacheMaxBytes < maxAnswerBytes) {
    throw ConfigError.conflict(
      'PASS_THROUGH_CACHE_MAX_BYTES',
      `PASS_THROUGH_CACHE_MAX_BYTES (${cacheMaxBytes}) must be at least PASS_THROUGH_MAX_ANSWER_BYTES (${maxAnswerBytes}): the cache must hold the largest answer it keeps`,
    );
  }
  return { maxAnswerBytes, cacheMaxBytes };
}

export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST?.trim() || '127.0.0.1';
  const poolSize = readInteger(env, 'DATABASE_POOL_SIZE', 10, 1, 1000);
  const databaseTimeouts = {
    statementTimeoutMs: readInteger(env, 'DATABASE_STATEMENT_TIMEOUT_MS', DEFAULT_POSTGRES_TIMEOUTS.statementTimeoutMs, 0, 3_600_000),
    connectTimeoutMs: readInteger(env, 'DATABASE_CONNECT_TIMEOUT_MS', DEFAULT_POSTGRES_TIMEOUTS.connectTimeoutMs, 100, 120_000),
  };
  const providers = readProviders(env);
  const config: Config = {
    workers: readWorkers(env),
    port: readInteger(env, 'PORT', 8000, 0, 65535),
    host,
    database: parseDatabaseUrl(env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL, poolSize, databaseTimeouts),
    logLevel: readChoice(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    bodyLimitBytes: readInteger(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
    providers,
    providerTimeoutMs: readInteger(env, 'PROVIDER_TIMEOUT_MS', 5000, 100, 120_000),
    upstreamFairShare: readFraction(env, 'UPSTREAM_FAIR_SHARE', 0.2),
    upstreamMinuteFairShare: readFraction(env, 'UPSTREAM_MINUTE_FAIR_SHARE', 0.6),
    quoteRefreshSeconds: readInteger(env, 'QUOTE_REFRESH_SECONDS', 3600, 1, 7 * 86_400),
    authCacheSeconds: readInteger(env, 'AUTH_CACHE_SECONDS', 30, 0, 3600),
    idempotencyTtlSeconds: readInteger(env, 'IDEMPOTENCY_TTL_SECONDS', 86_400, 1, 30 * 86_400),
    // The default is app/portfolio.ts's PORTFOLIO_MAX_TRADES. An operator may raise it: a claimed ledger (app/ledger-claims.ts)
    // is written by its owner only, so its length is the owner's. Folding costs 12–25 µs a trade; 1,000,000 is 12–25 s of a core.
    portfolioMaxTrades: readInteger(env, 'PORTFOLIO_MAX_TRADES', 10_000, 1, 1_000_000),
    throttle: {
      anon: readRate(env, 'THROTTLE_ANON', '100/day')!,
      user: readRate(env, 'THROTTLE_USER', '1000/day')!,
      register: readRate(env, 'THROTTLE_REGISTER', '10/day')!,
      keys: readRate(env, 'THROTTLE_KEYS', '10/day')!,
      // On by default (issue 18): far above what a person or the seed's test suites send from one address,
      // far below the hundreds of thousands of writes a day one anonymous address could otherwise make.
      trades: readRateOrOff(env, 'THROTTLE_TRADES', THROTTLE_TRADES_DEFAULT),
      ipv6Prefix: readInteger(env, 'THROTTLE_IPV6_PREFIX', 64, 32, 128),
    },
    trustProxy: readInteger(env, 'TRUST_PROXY', 0, 0, 32),
    redisUrl: readRedisUrl(env),
    redisKeyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'sms:',
    onRateLimitStoreFailure: readChoice(env, 'RATE_LIMIT_ON_STORE_FAILURE', ['allow', 'deny'] as const, 'allow'),
    apiCallsLogPath: env.APICALLS_LOG?.trim() || './apicalls.log',
    serverLimits: readServerLimits(env),
    workShares: {
      perClient: readInteger(env, 'EXPENSIVE_PER_CLIENT', 2, 1, 1000),
      anonymous: readInteger(env, 'EXPENSIVE_ANONYMOUS', 2, 1, 1000),
      queuePerClient: readInteger(env, 'EXPENSIVE_QUEUE', 4, 0, 1000),
      queueWaitMs: readInteger(env, 'EXPENSIVE_QUEUE_WAIT_MS', 2000, 0, 60_000),
    },
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, 100, 3_600_000),
    corsOrigins: readOrigins(env),
    prefetch: readPrefetch(env, providers),
    passThrough: readPassThrough(env),
    metricsToken: readMetricsToken(env),
  };
  checkWorkersShareState(config);
  return config;
}
