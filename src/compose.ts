/**
 * The composition root: builds every adapter from the config and wires them
 * into the app. composeService reads top to bottom as the service is put
 * together; the helpers below it each wire one part (the database, market
 * data, shared state, the background timers).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { type Kysely, sql } from 'kysely';
import { pino } from 'pino';
import { createAccountStore } from './adapters/db/account-store.js';
import { createActionStore } from './adapters/db/action-store.js';
import { connectDatabase, poolUsage } from './adapters/db/connect.js';
import type { Database } from './adapters/db/database.js';
import { createDemandStore } from './adapters/db/demand-store.js';
import { createIdempotencyRecords, idempotentAccounts, idempotentTrades } from './adapters/db/idempotency-records.js';
import { migrateToLatest, pendingMigrations } from './adapters/db/migrate.js';
import { createPeriodBarStore } from './adapters/db/period-bar-store.js';
import { createPrefetchLease } from './adapters/db/prefetch-lease.js';
import { createPriceStore } from './adapters/db/price-store.js';
import { createPassThroughCache } from './adapters/db/pass-through-cache.js';
import { createSearchCache } from './adapters/db/search-cache.js';
import { createServedRequestsStore } from './adapters/db/served-requests-store.js';
import { createTradeLedger } from './adapters/db/trade-ledger.js';
import { createLedgerClaimStore } from './adapters/db/ledger-claim-store.js';
import { createBudgetStore } from './adapters/db/upstream-budget-store.js';
import { createApiCallLog } from './adapters/http/api-call-log.js';
import { buildHttpApp, type HttpOptions, logSerializers } from './adapters/http/app.js';
import { createMetrics, type Metrics } from './adapters/metrics/prometheus.js';
import { createFailover } from './app/market-data/failover.js';
import { createProviders, providerQuotas } from './adapters/providers/index.js';
import { createSandboxProvider, SANDBOX_SOURCE } from './adapters/providers/sandbox.js';
import { connectRedisKeyRevocations } from './adapters/pubsub/key-revocations.js';
import { createMemoryRateLimitStore } from './adapters/ratelimit/memory.js';
import { connectRedisRateLimitStore } from './adapters/ratelimit/redis.js';
import { connectRedisFetchLease } from './adapters/redis/fetch-lease.js';
import { createAccountService } from './app/accounts.js';
import { createActionsSource } from './app/market-data/corporate-actions.js';
import { createDemandTally, type DemandTally } from './app/market-data/demand.js';
import { createIdempotency } from './app/idempotency.js';
import { createPassThroughService } from './app/market-data/pass-through.js';
import { createPeriodSource } from './app/market-data/period-bars.js';
import { nextRunInMs, type PrefetchDeps, type PrefetchOutcome, runPrefetch } from './app/market-data/prefetch.js';
import { createPriceSource } from './app/market-data/prices.js';
import { type CallOutcomes, createCallOutcomes, createProviderStatus, type KnownProvider } from './app/market-data/provider-status.js';
import { createQuoteService } from './app/market-data/quotes.js';
import { createRefreshCoordinator, type FetchLease } from './app/market-data/refresh.js';
import { createSearchService } from './app/market-data/search.js';
import { createServedRequests, type ServedRequests } from './app/served-requests.js';
import { createUpstreamBudget, type UpstreamBudget } from './app/market-data/upstream-budget.js';
import { type Config, PROVIDER_NAMES } from './config.js';

export interface Service {
  app: FastifyInstance;
  db: Kysely<Database>;
  /**
   * True once shutdown begins (close() sets it; main.ts may set it earlier to
   * drain): GET /ready answers 503, so load balancers send traffic elsewhere.
   */
  draining: boolean;
  /**
   * This instance's metrics. A cluster worker passes it to prom-client's
   * `AggregatorRegistry.setRegistries([service.metricsRegistry])`; the master
   * sums the workers' with `new AggregatorRegistry().clusterMetrics()`.
   */
  metricsRegistry: Registry;
  /** Reopens apicalls.log (after logrotate moved it): main.ts calls it on SIGHUP. Never rejects; reports itself. */
  reopenLogs(): Promise<void>;
  /** Writes this instance's count of requests served now, instead of at its next flush (tests of several instances). */
  flushServedCounts(): Promise<void>;
  /** Saves this instance's symbol demand, then runs the after-close prefetch if it is due (the timer's job; tests call it). */
  prefetch(): Promise<PrefetchOutcome>;
  /** Closes the HTTP server, then flushes the log and closes the stores. */
  close(): Promise<void>;
}

export interface ComposeOptions {
  /**
   * The clock of quote refreshes, provider quotas and, when set, the throttle's windows (otherwise the
   * memory store reads Date.now and Redis its own TIME); tests set it instead of waiting for time to pass.
   */
  now?: () => Date;
  /** Sees every HTTP route as it is declared (tests check the OpenAPI document against them). */
  onRoute?: HttpOptions['onRoute'];
  /** Where the JSON log lines go; stdout unless set (tests read them). */
  logDestination?: pino.DestinationStream;
  /**
   * What GET /metrics answers; this instance's registry unless set. Under
   * node:cluster, a function that gets the master's aggregate of every
   * worker (AggregatorRegistry.clusterMetrics(), over IPC) plugs in here.
   */
  renderMetrics?: () => Promise<string>;
  /** false in cluster workers: the primary applied the migrations before forking them. */
  migrate?: boolean;
  /** Where the dashboard's build is; dist/web unless set (tests serve a missing one). */
  dashboardDir?: string;
}

export async function composeService(config: Config, options: ComposeOptions = {}): Promise<Service> {
  // Requests are logged without their query string: the gateway's key may be in it.
  const logger = pino({ level: config.logLevel, serializers: logSerializers }, options.logDestination);
  const now = options.now ?? (() => new Date());
  const db = await openDatabase(config, logger, options.migrate ?? true);
  const metrics = createMetrics();
  const { rateLimits, kind, revocations, fetchLease } = await sharedState(config, logger, options.now && (() => options.now!().getTime()));
  const market = marketDataServices(config, db, now, logger, metrics, fetchLease);
  const prefetch = afterClosePrefetch(config, market.prefetchDeps, market.demand, logger);
  const accounts = await createAccountService(createAccountStore(db), {
    cacheSize: 10_000,
    cacheTtlMs: config.authCacheSeconds * 1000,
    revocations,
    onLookup: metrics.keyLookedUp,
  });
  const idempotency = createIdempotency({
    ttlMs: config.idempotencyTtlSeconds * 1000,
    now,
    records: createIdempotencyRecords(db),
    onPruneError: (error) => logger.warn({ err: error }, 'expired idempotency keys could not be pruned; the next write prunes them'),
  });
  const once = {
    trades: { idempotency, transaction: idempotentTrades(db) },
    register: { idempotency, transaction: idempotentAccounts(db) },
  };
  const apiCallLog = await createApiCallLog(config.apiCallsLogPath, logger);
  const health = {
    database: async () => void (await sql`select 1`.execute(db)),
    rateLimitStore: { kind, health: rateLimits.health },
    apiCallsLog: apiCallLog.health,
  };
  metrics.readFrom({
    budgetLeft: () => budgetLeft(market.budget, market.providerNames),
    pool: () => poolUsage(db),
    apiCallsLogDropped: () => apiCallLog.health().dropped,
  });
  let draining = false;

  const ledger = createTradeLedger(db);
  const app = await buildHttpApp(
    {
      ledger,
      claims: createLedgerClaimStore(db),
      claimOptions: { now, lastTradeId: () => ledger.lastId() },
      accounts,
      once,
      quotes: market.quotes,
      search: market.search,
      passThrough: market.passThrough,
      rateLimits,
      apiCallLog,
      providerStatus: market.providerStatus,
      served: market.served,
      now,
      health,
      readiness: {
        database: health.database,
        pendingMigrations: () => pendingMigrations(db),
        redis: config.redisUrl ? { health: rateLimits.health, required: config.onRateLimitStoreFailure === 'deny' } : undefined,
        draining: () => draining,
      },
      metrics: { ...metrics, render: options.renderMetrics ?? (() => metrics.registry.metrics()) },
    },
    {
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      throttle: { ...config.throttle, onStoreFailure: config.onRateLimitStoreFailure },
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      serverLimits: config.serverLimits,
      workShares: config.workShares,
      onRoute: options.onRoute,
      metricsToken: config.metricsToken,
      portfolioMaxTrades: config.portfolioMaxTrades,
      dashboardDir: options.dashboardDir,
    },
  );
  const stopFlushing = flushPeriodically(market.served, logger);
  app.addHook('onClose', async () => {
    // The server no longer answers: stop the run and save the last demand while the database is open.
    await prefetch.stop();
    await stopFlushing();
    await apiCallLog.close();
    await rateLimits.close();
    await revocations?.close();
    await fetchLease?.close();
    await db.destroy();
  });
  if (config.prefetch.enabled) prefetch.start();
  return {
    app,
    db,
    get draining() {
      return draining;
    },
    set draining(value: boolean) {
      draining = value;
    },
    metricsRegistry: metrics.registry,
    reopenLogs: () => apiCallLog.reopen(),
    prefetch: prefetch.run,
    flushServedCounts: () => market.served.flush(),
    close: () => {
      draining = true;
      return app.close();
    },
  };
}

/** Calls each provider has left in each window it limits, for the metrics. */
async function budgetLeft(budget: UpstreamBudget, providers: string[]) {
  const usages = await Promise.all(providers.map(async (provider) => ({ provider, usage: await budget.usage(provider) })));
  return usages.flatMap(({ provider, usage }) => {
    if (!usage) return [];
    const windows = [
      { provider, window: 'day' as const, limit: usage.dailyLimit, calls: usage.callsToday },
      { provider, window: 'minute' as const, limit: usage.minuteLimit, calls: usage.callsThisMinute },
    ];
    return windows.filter((w) => w.limit > 0).map((w) => ({ provider, window: w.window, left: Math.max(0, w.limit - w.calls) }));
  });
}

/** Applies pending migrations and closes the database: the cluster primary's one job on it, before forking workers. */
export async function migrateDatabase(config: Config): Promise<void> {
  const db = await openDatabase(config, pino({ level: config.logLevel }), true);
  await db.destroy();
}

/** The database, migrated to the latest schema; closed again if migrating fails. */
async function openDatabase(config: Config, logger: pino.Logger, migrate: boolean): Promise<Kysely<Database>> {
  const db = connectDatabase(config.database, (error) =>
    logger.warn({ err: error }, 'an idle database connection failed; the pool will replace it'),
  );
  if (!migrate) return db;
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/**
 * Market data from the vendors to the use cases: the upstream budget and
 * failover, one refresh coordinator shared by bars, actions, period bars and search, the
 * use cases over them, the economy report, and what the prefetch needs.
 */
function marketDataServices(
  config: Config,
  db: Kysely<Database>,
  now: () => Date,
  logger: pino.Logger,
  metrics: Metrics,
  fetchLease: FetchLease | undefined,
) {
  const { providers, realProviders } = marketDataProviders(config, logger, now);
  const providerNames = providers.map((p) => p.name);
  const budget = createUpstreamBudget(createBudgetStore(db), providerQuotas(config), {
    fairShare: config.upstreamFairShare,
    minuteFairShare: config.upstreamMinuteFairShare,
    backgroundReserve: config.prefetch.reserve,
    now,
  });
  const outcomes: CallOutcomes = metrics.countingUpstreamCalls(createCallOutcomes(now));
  const failover = createFailover(providers, logger, budget, outcomes, now);
  const served = createServedRequests(createServedRequestsStore(db), { now });
  const providerStatus = createProviderStatus({ providers: knownProviders(providerNames), budget, outcomes, served, now });

  const refreshIntervalMs = config.quoteRefreshSeconds * 1000;
  // Each provider in turn may take its whole timeout; past that, a holder is presumed gone.
  const leaseMs = providers.length * config.providerTimeoutMs + FETCH_LEASE_MARGIN_MS;
  const coordinator = createRefreshCoordinator({ refreshIntervalMs, joinFetch: failover.join, lease: fetchLease, leaseMs, now });
  const priceStore = createPriceStore(db, { sandboxSource: SANDBOX_SOURCE, realProviders });
  const prices = createPriceSource(priceStore, failover.fetchBars, coordinator, { refreshIntervalMs, now });
  const actions = createActionsSource(createActionStore(db, { sandboxSource: SANDBOX_SOURCE, realProviders }), failover, coordinator, { refreshIntervalMs, now });
  const demandStore = createDemandStore(db);
  const demand = createDemandTally(demandStore, {
    now,
    onFlushError: (error) => logger.warn({ err: error }, 'symbol demand could not be saved; the prefetch orders by what was'),
  });
  // Asked only of providers that have them (Alpha Vantage); with none configured, stored ones are still served.
  // Never beside the sandbox's synthetic daily bars: a vendor's real weeks would pass for their history.
  const periodsUpstream = providers.some((provider) => provider.getPeriodBars) ? failover.getPeriodBars : undefined;
  const periods = realProviders ? createPeriodSource(createPeriodBarStore(db), periodsUpstream, coordinator, { refreshIntervalMs, now }) : undefined;
  const quotes = createQuoteService(prices, actions, { refreshIntervalMs, now, demand, periods });
  const search = createSearchService(createSearchCache(db), failover.searchSymbols, coordinator, { now });
  // Only Alpha Vantage's adapter passes calls through: without its key, each is refused, saying so.
  const passesThrough = providers.some((provider) => provider.passThrough !== undefined);
  const passThrough = createPassThroughService(createPassThroughCache(db), passesThrough ? failover.passThrough : undefined, coordinator, {
    now,
    cacheMaxBytes: config.passThrough.cacheMaxBytes,
    onPruneError: (error) => logger.warn({ err: error }, 'passed-through answers could not be pruned; the next one kept prunes them'),
    onAnswered: metrics.passThroughAnswered,
  });
  const prefetchDeps: PrefetchDeps = { demand: demandStore, lease: createPrefetchLease(db), prices, budget, providers: providerNames, now };
  return { quotes, search, passThrough, providerStatus, served, demand, prefetchDeps, budget, providerNames };
}

/** Real providers when configured; otherwise the offline sandbox, said loudly. */
function marketDataProviders(config: Config, logger: pino.Logger, now: () => Date) {
  const real = createProviders(config);
  if (real.length > 0) {
    logger.info({ providers: real.map((p) => p.name) }, 'market data providers, in failover order');
    return { providers: real, realProviders: true };
  }
  logger.warn('no market data provider configured: serving SANDBOX data (synthetic, marked "source": "sandbox")');
  return { providers: [createSandboxProvider({ now })], realProviders: false };
}

/** The configured providers in failover order, then the vendors without a key: a self-hoster sees what it could add. */
function knownProviders(configured: string[]): KnownProvider[] {
  const unconfigured = PROVIDER_NAMES.filter((name) => !configured.includes(name));
  return [...configured.map((name) => ({ name, configured: true })), ...unconfigured.map((name) => ({ name, configured: false }))];
}

/** Time an upstream fetch's lease allows beyond the providers' timeouts: the fair queue's wait and storing the answer. */
const FETCH_LEASE_MARGIN_MS = 10_000;

/** In-process counts and leases for one instance; Redis when instances must share one limit and one upstream fetch per symbol. */
async function sharedState(config: Config, logger: pino.Logger, throttleNow?: () => number) {
  if (!config.redisUrl) return { rateLimits: createMemoryRateLimitStore({ now: throttleNow }), kind: 'memory' as const, revocations: undefined, fetchLease: undefined };
  const [rateLimits, revocations, fetchLease] = await Promise.all([
    connectRedisRateLimitStore(config.redisUrl, config.redisKeyPrefix, logger, { now: throttleNow }),
    connectRedisKeyRevocations(config.redisUrl, config.redisKeyPrefix, logger),
    connectRedisFetchLease(config.redisUrl, config.redisKeyPrefix, logger),
  ]);
  return { rateLimits, kind: 'redis' as const, revocations, fetchLease };
}

/** How often an instance adds its count of requests served to the shared one: what other instances' totals lag by. */
const SERVED_FLUSH_MS = 5000;

/** Flushes the served count every few seconds, off the request path; a failed flush keeps its counts for the next. */
function flushPeriodically(served: ServedRequests, logger: pino.Logger): () => Promise<void> {
  const flush = () => served.flush().catch((err: unknown) => logger.warn({ err }, 'requests served could not be counted yet; kept for the next flush'));
  const timer = setInterval(() => void flush(), SERVED_FLUSH_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await flush();
  };
}

/** Demand is written this often: a few seconds of counts is all a crash can lose. */
const DEMAND_FLUSH_MS = 5_000;
/** Longer than one symbol's refresh can take (provider timeouts, a turn in the fair queue), renewed every third of it. */
const PREFETCH_LEASE_MS = 120_000;

/**
 * The after-close prefetch of this instance: one run at a time, and (when
 * PREFETCH=on) a timer that only decides when; runPrefetch decides the rest.
 */
function afterClosePrefetch(config: Config, deps: PrefetchDeps, demand: DemandTally, logger: pino.Logger) {
  const holder = randomUUID();
  const stopping = new AbortController();
  const schedule = { delayMs: config.prefetch.delaySeconds * 1000, retryMs: config.prefetch.retrySeconds * 1000 };
  const options = { holder, windowDays: config.prefetch.windowDays, leaseMs: PREFETCH_LEASE_MS, signal: stopping.signal };
  let running: Promise<PrefetchOutcome> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flushing = setInterval(() => void demand.flush(), DEMAND_FLUSH_MS).unref();

  const run = () =>
    (running ??= (async () => {
      await demand.flush();
      return runPrefetch(deps, options);
    })().finally(() => (running = undefined)));

  /** One timed run, logged; undefined when it failed (retried later, as one that did not complete). */
  async function loggedRun(): Promise<PrefetchOutcome | undefined> {
    try {
      const outcome = await run();
      const { kind, session } = outcome;
      logger.info({ kind, session, refreshed: 'refreshed' in outcome ? outcome.refreshed.length : 0 }, 'after-close prefetch');
      return outcome;
    } catch (error) {
      logger.error({ err: error }, 'after-close prefetch failed; retrying later');
      return undefined;
    }
  }

  function wakeAfter(outcome: PrefetchOutcome | undefined): void {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => void loggedRun().then(wakeAfter), nextRunInMs(outcome, deps.now(), schedule)).unref();
  }

  return {
    run,
    start: () => wakeAfter(undefined),
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      clearInterval(flushing);
      await running?.catch(() => undefined);
      await demand.flush();
    },
  };
}
