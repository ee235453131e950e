import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { AccountService, RegisterOnce } from '../../app/accounts.js';
import type { ProviderStatus } from '../../app/market-data/provider-status.js';
import type { PassThroughService } from '../../app/market-data/pass-through.js';
import type { QuoteService } from '../../app/market-data/quotes.js';
import type { SearchService } from '../../app/market-data/search.js';
import type { ServedRequests } from '../../app/served-requests.js';
import { type RateLimitStore, type ThrottleRates, throttleScopes } from '../../app/throttle.js';
import type { TradeLedger, TradeOnce } from '../../app/trades.js';
import type { ClaimOptions, LedgerClaims } from '../../app/ledger-claims.js';
import { type WorkShareLimits, workShares } from '../../app/work-shares.js';
import { DomainError } from '../../domain/errors.js';
import { accountRoutes, registrationRoutes } from './accounts.js';
import { alphaVantageGatewayRoutes } from './alpha-vantage-gateway.js';
import { apiRootRoute } from './api-root.js';
import type { ApiCallLog } from './api-call-log.js';
import { installApiGate, requireKey } from './auth.js';
import { dashboardRoutes } from './dashboard.js';
import { answerNotFound, errorBody, httpStatusOf, installErrorHandling } from './errors.js';
import { healthRoute, type HealthChecks } from './health.js';
import { indicatorRoutes } from './indicators.js';
import { accessFor, ledgerRoutes } from './ledgers.js';
import { documentAnswers, documentSecurity, installApiDocs } from './openapi.js';
import { measuring, metricsRoute, type RequestMetrics } from './metrics.js';
import { portfolioRoutes } from './portfolio.js';
import { refusingOtherMethods } from './method-not-allowed.js';
import { countingServedMarketData, providerRoutes } from './providers.js';
import { quoteRoutes } from './quotes.js';
import { readyRoute, type ReadinessChecks } from './ready.js';
import { REQUEST_ID_HEADER, requestIds } from './request-id.js';
import { type CompletionObserver, logRequest, RequestCompletion } from './request-log.js';
import { invalidKey, rateUncheckable, serverRefusals, throttled } from './schemas/answers.js';
import { PUBLIC } from './schemas/security.js';
import { searchRoutes } from './search.js';
import { helmetHeaders } from './security-headers.js';
import { serverLimitOptions, type ServerLimits } from './server-limits.js';
import { startRequestBudget } from './request-budget.js';
import { requestCounter, type StoreFailurePolicy } from './throttle.js';
import { tradeRoutes } from './trades.js';
import { installWorkShares, shareTaker } from './work-shares.js';
import { installStrictJsonParser, parseQueryString } from './strict-utf8.js';
import { installValidators } from './validation.js';

export interface HttpDependencies {
  ledger: TradeLedger;
  /** Who claimed which user_id of the ledger (app/ledger-claims.ts), and what a claim records. */
  claims: LedgerClaims;
  claimOptions: ClaimOptions;
  accounts: AccountService;
  /** The writes that take an Idempotency-Key, each with its key records in its transaction. */
  once: { trades: TradeOnce; register: RegisterOnce };
  quotes: QuoteService;
  search: SearchService;
  passThrough: PassThroughService;
  rateLimits: RateLimitStore;
  apiCallLog: ApiCallLog;
  health: HealthChecks;
  readiness: ReadinessChecks;
  metrics: RequestMetrics;
  providerStatus: ProviderStatus;
  served: ServedRequests;
  /** The service's clock (portfolio dates: as_of may not be after today). */
  now?: () => Date;
}

export interface HttpOptions {
  logger: FastifyBaseLogger;
  bodyLimitBytes: number;
  throttle: ThrottleRates & { onStoreFailure: StoreFailurePolicy };
  trustProxy: number;
  corsOrigins: string[];
  serverLimits: ServerLimits;
  workShares: WorkShareLimits;
  /** Sees every route as it is declared (tests list the routes to check the OpenAPI document against them). */
  onRoute?: (route: RouteOptions) => void;
  /** The trades one portfolio request folds at most (PORTFOLIO_MAX_TRADES); app/portfolio.ts's default unless set. */
  portfolioMaxTrades?: number;
  /** GET /metrics asks for it as a Bearer token when set. */
  metricsToken: string | undefined;
  /** Where the dashboard's build is (dashboard.ts); dist/web unless set. */
  dashboardDir?: string;
}

/** Paths whose requests go to apicalls.log: the API, its Alpha Vantage gateway, and the ledger. */
const LOGGED_PATH = /^\/(api\/v1(\/|$)|query\/?$|trades(\/|$))/;
/** Paths behind the API's gate: counted against a key or the client's address. */
const API_PATH = /^\/(api\/v1(\/|$)|query\/?$)/;

/** The path as requested: without the query string, where a key might travel. */
const requestedPath = (url: string) => url.split('?', 1)[0]!;

/**
 * How the service's own (pino) log shows a request: as Fastify does, but its
 * URL without the query string, as apicalls.log writes it — the gateway's
 * `apikey` travels there, under any spelling the query parser decodes
 * (`ap%69key`), so no part of it is logged.
 */
export const logSerializers = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    url: requestedPath(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
};

/**
 * The path as the router reads it, for deciding which rules apply: the
 * router also serves `/%61pi/v1/…` and `GET http://host/trades` (absolute
 * form) as `/api/v1/…` and `/trades`, so a client must not escape the log or
 * the count by spelling a path so.
 */
function routedPath(url: string): string {
  const path = requestedPath(url);
  // The common case, checked first as it is on every response: origin form, nothing percent-encoded.
  if (path.charCodeAt(0) === 0x2f && !path.includes('%')) return path;
  return path
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '')
    .replace(/%([0-7][0-9a-f])/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Writes each request to the API, the gateway or the ledger to apicalls.log, once answered. */
function loggingApiCalls(log: ApiCallLog): CompletionObserver {
  return (request) => {
    const url = request.raw.url ?? '/';
    if (!LOGGED_PATH.test(routedPath(url))) return;
    log.record(request.method, requestedPath(url), request.auth?.account.email ?? 'AnonymousUser');
  };
}

/** Builds the Fastify app from its route plugins; main.ts starts it, tests inject into it. */
export async function buildHttpApp(deps: HttpDependencies, options: HttpOptions): Promise<FastifyInstance> {
  // At each answer, in place of onResponse hooks: apicalls.log and the market-data count (for routed
  // requests only, as hooks were), then the request's log line and its metrics (for every request).
  // apicalls.log also hears a request whose client left before its answer was sent (request-log.ts).
  const completion = new RequestCompletion([logRequest, measuring(deps.metrics)], [countingServedMarketData(deps.served)], [loggingApiCalls(deps.apiCallLog)]);
  // A client's own X-Request-Id only through trusted proxies (request-id.ts).
  const requestIdOf = requestIds(options.trustProxy);
  const app = Fastify({
    loggerInstance: options.logger,
    // Each request's id (request-id.ts) is on every log line of it, and one line per request replaces Fastify's two.
    genReqId: requestIdOf,
    logController: completion,
    bodyLimit: options.bodyLimitBytes,
    // Timeouts, the connection cap and Node's own client errors as JSON: server-limits.ts, protocol-errors.ts.
    ...serverLimitOptions(options.serverLimits, options.logger, requestIdOf),
    // The original service's clients call `/api/v1/symbol/ibm/`; both forms route alike.
    // Long enough that routes answer a bad symbol or id themselves (400/404); longer is 414.
    // Query strings decoded strictly as UTF-8 (strict-utf8.ts), so a value that is not is a 400 naming it.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500, querystringParser: parseQueryString },
    // Errors raised while routing, before any hook or handler: JSON like the rest.
    frameworkErrors: (error, request, reply) => void answerRefusedUrl(error, request, reply as FastifyReply),
    // X-Forwarded-For is believed for exactly this many proxies (DRF's NUM_PROXIES); 0 trusts none.
    // (The hop-count function is what Fastify builds from a number; its types take only the function.)
    trustProxy: options.trustProxy > 0 ? (_address: string, hop: number) => hop < options.trustProxy : false,
    // While closing, a request that arrives on a kept-alive connection is served (with `Connection: close`,
    // which Fastify adds) instead of Fastify's bare 503: it was sent before the client could know, and the
    // stores stay open until every connection is done. Idle connections are closed at once (Fastify's
    // default forceCloseConnections: 'idle'), so a client meets a closed socket, never a half answer.
    return503OnClosing: false,
    // No watchdog on loading plugins (Fastify's default fails start-up with AVV_ERR_PLUGIN_EXEC_TIMEOUT when
    // one takes over 10 s): it times the clock, not the work, so on a busy host start-up could fail. What loads here
    // is registering routes and reading the service's own files (Swagger UI's, the dashboard's); what start-up
    // awaits on the network is bounded by its own timeouts, before this: the database's connection
    // (DATABASE_CONNECT_TIMEOUT_MS, statements by DATABASE_STATEMENT_TIMEOUT_MS) and Redis (readyOrTimeout, redis/connect.ts).
    pluginTimeout: 0,
  }).withTypeProvider<TypeBoxTypeProvider>();
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  // What the HTTP server itself may answer to any request (protocol-errors.ts), in every route's document.
  documentAnswers(app, serverRefusals);

  installValidators(app);
  installErrorHandling(app);
  // JSON only, and only UTF-8: anything else (text/plain included) is 415, not a string body.
  app.removeContentTypeParser('text/plain');
  installStrictJsonParser(app);
  app.decorateRequest('auth', null);
  app.decorateRequest('answerDue', null as unknown as AbortSignal);

  // helmet's defaults, computed once (security-headers.ts), and the request's id: one hook, first of all,
  // so that every answer from here on, refusals included, carries them.
  const securityHeaders = Object.entries(helmetHeaders());
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of securityHeaders) reply.header(name, value);
    reply.header(REQUEST_ID_HEADER, request.id);
    startRequestBudget(request, reply, options.serverLimits.requestBudgetMs);
    done();
  });
  if (options.corsOrigins.length > 0) await app.register(cors, { origin: options.corsOrigins });
  // Wrong methods are 405 with Allow on every path, API or not; so is OPTIONS, unless CORS answers preflights.
  const methods = { refuseOptions: options.corsOrigins.length === 0 };
  // /openapi.json and /docs: outside the gated scopes, so neither throttled nor in apicalls.log.
  await installApiDocs(app, methods);
  // The dashboard (GET / and its /assets/*): outside /api/v1 like /docs, so neither throttled nor logged.
  await app.register(refusingOtherMethods(dashboardRoutes(options.dashboardDir), methods));
  // Operations: neither throttled nor in apicalls.log, as they are outside /api/v1, /query and /trades.
  await app.register(refusingOtherMethods(healthRoute(deps.health), methods));
  await app.register(refusingOtherMethods(readyRoute(deps.readiness), methods));

  const scopes = throttleScopes(options.throttle);
  const accessOf = accessFor(deps.claims, deps.accounts);
  const counter = requestCounter(deps.rateLimits, options.throttle.onStoreFailure);
  // A wrong METRICS_TOKEN spends the address's anonymous allowance, as a wrong API key does.
  const countFailedToken = (request: FastifyRequest, reply: FastifyReply) => counter.count(request, reply, [scopes.anonymous(scopes.addressOf(request.ip))]);
  await app.register(refusingOtherMethods(metricsRoute(deps.metrics, options.metricsToken, countFailedToken), methods));
  // For routes that learn their cost from their answer (chargeForRows in quotes.ts).
  app.decorate('requestCounter', counter);
  // One set of shares for the ledger and the API: a client's expensive requests are counted together.
  const shares = workShares(options.workShares);
  app.decorate('workShares', shares);
  const takeShare = shareTaker(shares, scopes.addressOf);

  /**
   * A URL the router refuses (414 over-long, 400 malformed) never reaches a
   * hook, yet one under /api/v1 is a request like any other: it counts
   * against the address's anonymous allowance, so a flood of them is 429.
   */
  async function answerRefusedUrl(error: { statusCode?: number }, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const status = error.statusCode ?? 400;
    // No hook runs for a URL the router refuses, and Fastify reports no completion: both done here.
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.raw.once('finish', () => completion.urlRefusedCompleted(request, reply));
    try {
      if (API_PATH.test(routedPath(request.raw.url ?? '/'))) await counter.count(request, reply, [scopes.anonymous(scopes.addressOf(request.ip))]);
    } catch (refusal) {
      // Not thrown: nothing awaits this answer, so a throw would be an unhandled rejection. (The app's
      // error handler does not serve replies made while routing; hence the mapping here.)
      if (!(refusal instanceof DomainError)) {
        request.log.error({ err: refusal }, 'unhandled error');
        return void reply.code(500).send({ detail: 'Internal server error.' });
      }
      const { status: refusedStatus, headers } = httpStatusOf(refusal);
      return void reply.code(refusedStatus).headers(headers).send(errorBody(refusal));
    }
    void reply.code(status).send({ detail: status === 414 ? 'Request URI is too long.' : 'Malformed request URL.' });
  }
  await app.register(async (ledger) => {
    // With THROTTLE_TRADES=off the ledger counts nothing: no hook to run on each of its requests.
    if (options.throttle.trades) {
      ledger.addHook('onRequest', (request, reply) => counter.count(request, reply, scopes.ledger(scopes.addressOf(request.ip))));
    }
    documentAnswers(ledger, { 429: throttled('past THROTTLE_TRADES (10000/day per client address by default)'), 503: rateUncheckable });
    // The seed's contract: the ledger takes no key.
    documentSecurity(ledger, PUBLIC, 'replace');
    installWorkShares(ledger, takeShare);
    await ledger.register(refusingOtherMethods(tradeRoutes(deps.ledger, deps.once.trades, accessOf), methods));
  });

  await app.register(
    async (api) => {
      installApiGate(api, { accounts: deps.accounts, counter, scopes, takeShare });
      documentAnswers(api, { 401: invalidKey, 429: throttled('THROTTLE_ANON, THROTTLE_USER, THROTTLE_REGISTER'), 503: rateUncheckable });
      // Unknown /api/v1 paths pass the gate too: counted against the address.
      api.setNotFoundHandler(answerNotFound);
      installWorkShares(api, takeShare);
      await api.register(refusingOtherMethods(apiRootRoute(), methods));
      await api.register(refusingOtherMethods(registrationRoutes(deps.accounts, deps.once.register), methods));
      await api.register(async (keyed) => {
        requireKey(keyed);
        await keyed.register(refusingOtherMethods(accountRoutes(deps.accounts, deps.providerStatus), methods));
        await keyed.register(refusingOtherMethods(providerRoutes(deps.providerStatus), methods));
        await keyed.register(refusingOtherMethods(quoteRoutes(deps.quotes), methods));
        await keyed.register(refusingOtherMethods(indicatorRoutes(deps.quotes), methods));
        await keyed.register(refusingOtherMethods(searchRoutes(deps.search), methods));
        await keyed.register(refusingOtherMethods(ledgerRoutes(deps.claims, deps.claimOptions), methods));
        await keyed.register(refusingOtherMethods(portfolioRoutes(deps.ledger, deps.quotes, deps.now ?? (() => new Date()), accessOf, options.portfolioMaxTrades), methods));
      });
    },
    { prefix: '/api/v1' },
  );

  // The Alpha Vantage gateway sits at Alpha Vantage's path, behind the same gate: counted and logged as the API is.
  // (Its refusals are Alpha Vantage's 200 bodies, which its route documents, not the API's 401/429/503.)
  await app.register(async (gateway) => {
    installApiGate(gateway, { accounts: deps.accounts, counter, scopes });
    await gateway.register(refusingOtherMethods(alphaVantageGatewayRoutes({ quotes: deps.quotes, search: deps.search, passThrough: deps.passThrough }), methods));
  });
  return app;
}
