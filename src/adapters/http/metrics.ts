/**
 * GET /metrics for Prometheus, and what the HTTP layer tells the metrics:
 * each request answered, each market-data answer's X-Cache, each throttle
 * refusal. The counting itself is adapters/metrics/.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ErrorBody } from './errors.js';
import { type CompletionObserver, routeOf } from './request-log.js';
import { errorAnswer, mergeAnswers, rateUncheckable, throttled } from './schemas/answers.js';
import { METRICS_SECURITY } from './schemas/security.js';

export interface RequestMetrics {
  requestAnswered(answer: { route: string; method: string; status: number; seconds: number }): void;
  priceStoreAnswered(cache: string): void;
  throttled(scope: string): void;
  /** The exposition: this instance's registry, or the cluster's once aggregated. */
  render(): Promise<string>;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Hashing both sides gives equal lengths, so the comparison takes the same time whatever was sent. */
const digest = (text: string) => createHash('sha256').update(text).digest();

function presentsToken(request: FastifyRequest, token: string): boolean {
  const [scheme, sent, ...rest] = (request.headers.authorization ?? '').trim().split(/\s+/);
  if (!/^bearer$/i.test(scheme ?? '') || sent === undefined || rest.length > 0) return false;
  return timingSafeEqual(digest(sent), digest(token));
}

const NEEDS_TOKEN: ErrorBody = { detail: 'Metrics need "Authorization: Bearer <METRICS_TOKEN>".' };
const NOT_GATHERED: ErrorBody = { detail: 'Metrics could not be gathered from every worker; try again shortly.' };

/** The exposition is text, sent as it is; the refusals are JSON with a `detail`, as every error body. */
const METRICS_SCHEMA = {
  summary: 'Prometheus metrics',
  operationId: 'getMetrics',
  tags: ['operations'],
  security: METRICS_SECURITY,
  response: {
    200: {
      description: "Prometheus' text exposition format 0.0.4",
      content: { 'text/plain': { schema: Type.String({ description: 'One `name{labels} value` line per sample, with # HELP and # TYPE lines' }) } },
    },
    401: errorAnswer('METRICS_TOKEN is set and the request does not carry it as a Bearer token', [NEEDS_TOKEN], {
      'www-authenticate': { type: 'string', description: 'Bearer' },
    }),
    429: throttled("requests without the token count against the client address's THROTTLE_ANON"),
    503: mergeAnswers(
      errorAnswer('Under WEB_CONCURRENCY, the primary could not gather every worker\'s metrics', [NOT_GATHERED], {
        'retry-after': { type: 'integer', description: 'Seconds to wait before asking again' },
      }),
      rateUncheckable,
    ),
  },
};

/**
 * Counts a request that failed the token against its client, as a wrong API key is (auth.ts):
 * throws the 429 once that allowance is spent, so the token cannot be guessed at the server's pace.
 */
export type CountFailedToken = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * GET /metrics; with a token, only for `Authorization: Bearer <token>`. A scrape with the token is
 * counted nowhere (Prometheus scrapes often); each request without it spends the client's anonymous allowance.
 */
export function metricsRoute(metrics: RequestMetrics, token: string | undefined, countFailedToken: CountFailedToken): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', { schema: METRICS_SCHEMA }, async (request, reply: FastifyReply) => {
      if (token !== undefined && !presentsToken(request, token)) {
        await countFailedToken(request, reply);
        return reply.code(401).header('www-authenticate', 'Bearer').send(NEEDS_TOKEN);
      }
      let text: string;
      try {
        text = await metrics.render();
      } catch (error) {
        // Under WEB_CONCURRENCY the primary sums every worker's metrics; if it cannot, one worker's counts
        // passed off as the whole would mislead, so the scrape fails — as a 503 the scraper retries, not a 500.
        request.log.warn({ err: error }, 'metrics could not be gathered');
        return reply.code(503).header('retry-after', '5').send(NOT_GATHERED);
      }
      return reply.type(PROMETHEUS_TEXT).send(text);
    });
  };
}

/** Counts each answer: requests and latency by route, X-Cache on market data, throttle refusals by scope. */
export function measuring(metrics: RequestMetrics): CompletionObserver {
  return (request, reply) => {
    const status = reply.statusCode;
    metrics.requestAnswered({ route: routeOf(request), method: request.method, status, seconds: reply.elapsedTime / 1000 });
    const cache = reply.getHeader('x-cache');
    if (typeof cache === 'string') metrics.priceStoreAnswered(cache);
    if (status === 429 && request.throttledBy) metrics.throttled(request.throttledBy);
  };
}
