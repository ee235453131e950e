/**
 * The service's metrics in Prometheus's text format (prom-client). Requests
 * and upstream calls are counted as they happen; what other parts already
 * count (the upstream budget, the database pool, apicalls.log's dropped
 * lines) is read when Prometheus scrapes, so nothing is counted twice.
 *
 * Cluster workers: each worker keeps its own counts in `registry`. To answer
 * for all of them, a worker calls `AggregatorRegistry.setRegistries([service.metricsRegistry])`
 * and the master sums them with `new AggregatorRegistry().clusterMetrics()`,
 * handing that to the route through compose's `renderMetrics` option.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import type { CallOutcomes } from '../../app/market-data/provider-status.js';

/** What is read at each scrape rather than counted here. */
export interface ScrapedSources {
  /** Calls each provider has left in each window it limits (a window without a limit is left out). */
  budgetLeft(): Promise<{ provider: string; window: 'day' | 'minute'; left: number }[]>;
  /** The PostgreSQL pool; undefined on SQLite (one connection, no pool). */
  pool(): { total: number; idle: number; waiting: number } | undefined;
  /** apicalls.log lines lost since the process started. */
  apiCallsLogDropped(): number;
}

export interface Metrics {
  /** This instance's registry: what a cluster worker hands to prom-client's AggregatorRegistry. */
  registry: Registry;
  requestAnswered(answer: { route: string; method: string; status: number; seconds: number }): void;
  /** A market-data answer's X-Cache: HIT, MISS or STALE. */
  priceStoreAnswered(cache: string): void;
  /** A passed-through Alpha Vantage call: served kept (HIT), fetched (MISS), kept past its lifetime (STALE), or not served (FAILED). */
  passThroughAnswered(result: string): void;
  throttled(scope: string): void;
  /** A database look-up of an API key, and whether it found an active one. */
  keyLookedUp(found: boolean): void;
  /** `outcomes`, also counting each upstream call by provider and outcome. */
  countingUpstreamCalls(outcomes: CallOutcomes): CallOutcomes;
  readFrom(sources: ScrapedSources): void;
}

/** Seconds: from a cached quote (a few ms) to a provider's timeout (5 s by default). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const CACHE_RESULTS: Record<string, string> = { HIT: 'hit', MISS: 'miss', STALE: 'stale' };
const PASS_THROUGH_RESULTS: Record<string, string> = { ...CACHE_RESULTS, FAILED: 'failed' };

let processRegistry: Registry | undefined;

/**
 * CPU, memory, handles, GC and event-loop lag belong to the process, not to a
 * service: collected once however many services a process composes (tests do).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // The process's metrics are the same objects in every service's registry (typed as plain objects, they are metrics).
  for (const metric of processMetrics().getMetricsAsArray()) registry.registerMetric(metric as unknown as Metric);
  const registers = [registry];
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests answered, by route pattern (unmatched for a path no route serves), method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request to the end of its answer, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const priceStore = new Counter({
    name: 'price_store_answers_total',
    help: 'Market-data answers by what they cost upstream (X-Cache): hit (stored), miss (fetched), stale (upstream failed, old data served)',
    labelNames: ['result'] as const,
    registers,
  });
  const passThrough = new Counter({
    name: 'pass_through_answers_total',
    help: 'Alpha Vantage calls the gateway passed through, by result: hit (kept), miss (fetched), stale (kept past its lifetime, upstream failed) or failed (not served)',
    labelNames: ['result'] as const,
    registers,
  });
  const throttled = new Counter({
    name: 'throttle_refusals_total',
    help: 'Requests refused with 429 by a throttle, by scope (anon, user, register, keys, trades)',
    labelNames: ['scope'] as const,
    registers,
  });
  const keyLookups = new Counter({
    name: 'api_key_lookups_total',
    help: 'API keys looked up in the database (not cached, and possibly valid), by result: found (an active key) or not_found',
    labelNames: ['result'] as const,
    registers,
  });
  const upstreamCalls = new Counter({
    name: 'upstream_calls_total',
    help: 'Calls to market-data providers, by provider and outcome (answered, unknown_symbol, rate_limited, unavailable)',
    labelNames: ['provider', 'outcome'] as const,
    registers,
  });

  return {
    registry,
    requestAnswered({ route, method, status, seconds }) {
      const labels = { route, method, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    priceStoreAnswered(cache) {
      const result = CACHE_RESULTS[cache];
      if (result) priceStore.inc({ result });
    },
    passThroughAnswered(result) {
      const label = PASS_THROUGH_RESULTS[result];
      if (label) passThrough.inc({ result: label });
    },
    throttled: (scope) => throttled.inc({ scope }),
    keyLookedUp: (found) => keyLookups.inc({ result: found ? 'found' : 'not_found' }),
    countingUpstreamCalls: (outcomes) => ({
      record(provider, outcome, retryAfterSeconds) {
        upstreamCalls.inc({ provider, outcome });
        outcomes.record(provider, outcome, retryAfterSeconds);
      },
      of: (provider) => outcomes.of(provider),
    }),
    readFrom: (sources) => scrapedGauges(registry, sources),
  };
}

function scrapedGauges(registry: Registry, sources: ScrapedSources): void {
  const registers = [registry];
  new Gauge({
    name: 'upstream_budget_remaining_calls',
    help: "Calls each provider's quota has left in the current window (day, minute); shared by every instance",
    labelNames: ['provider', 'window'] as const,
    // Every worker reads the same shared count: summing them would multiply it.
    aggregator: 'first',
    registers,
    async collect() {
      this.reset();
      for (const { provider, window, left } of await sources.budgetLeft()) this.set({ provider, window }, left);
    },
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'PostgreSQL pool connections by state: in_use (lent to a query) or idle',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const pool = sources.pool();
      if (!pool) return;
      this.set({ state: 'in_use' }, pool.total - pool.idle);
      this.set({ state: 'idle' }, pool.idle);
    },
  });
  new Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Queries waiting for a PostgreSQL pool connection',
    registers,
    collect() {
      const pool = sources.pool();
      if (pool) this.set(pool.waiting);
    },
  });
  let reported = 0;
  new Counter({
    name: 'apicalls_log_dropped_lines_total',
    help: 'apicalls.log lines lost (disk full, write errors, too much waiting to be written)',
    registers,
    collect() {
      // The log keeps its own total; the counter catches up to it.
      const dropped = sources.apiCallsLogDropped();
      this.inc(dropped - reported);
      reported = dropped;
    },
  });
}
