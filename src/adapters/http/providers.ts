/**
 * GET /api/v1/providers/ — the upstream economy, for any key — and the one
 * place market-data answers are counted as served.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ProviderReport, ProviderStatus } from '../../app/market-data/provider-status.js';
import type { ServedRequests } from '../../app/served-requests.js';
import type { CompletionObserver } from './request-log.js';
import { ProvidersSchema } from './schemas/economy.js';

function providerBody(report: ProviderReport) {
  if (!report.configured) return { name: report.name, configured: false };
  const { state, usage } = report;
  // The budget counts only the windows it limits: without a limit, there is no count to show.
  const counted = (calls: number | undefined, limit: number | undefined) => (limit ? { calls, limit } : { calls: null, limit: null });
  const day = counted(usage?.callsToday, usage?.dailyLimit);
  const minute = counted(usage?.callsThisMinute, usage?.minuteLimit);
  return {
    name: report.name,
    configured: true,
    state: state.state,
    ...(state.state === 'rate_limited' && { until: state.until.toISOString() }),
    ...(state.state === 'failing' && { since: state.since.toISOString(), last_error: state.lastError }),
    calls_today: day.calls,
    daily_limit: day.limit,
    calls_this_minute: minute.calls,
    minute_limit: minute.limit,
  };
}

export function providerRoutes(status: ProviderStatus): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/providers',
      {
        schema: {
          summary: "Each provider's state and calls today, the requests served and the share the price store saved",
          operationId: 'getProviders',
          tags: ['market data'],
          response: { 200: ProvidersSchema },
        },
      },
      async () => {
        const report = await status.report();
        return {
          providers: report.providers.map(providerBody),
          requests_served_today: report.requestsServedToday,
          upstream_calls_today: report.upstreamCallsToday,
          saved_ratio: report.savedRatio,
        };
      },
    );
  };
}

/**
 * Counts market-data requests answered: every 200 that carries X-Cache,
 * which each market-data route sets (quote, batch, history, and search and
 * the gateway as they come) — seen at every request's completion, so no route
 * can forget it. A batch counts as its distinct symbols, as it costs the
 * account (its route cost): each may cost an upstream call, so the ratio saved
 * compares like with like.
 */
export function countingServedMarketData(served: ServedRequests): CompletionObserver {
  return (request, reply) => {
    if (reply.statusCode !== 200 || !reply.hasHeader('x-cache')) return;
    // A portfolio's cost is a promise: the request's own fold, already settled by the time it answered.
    const units = request.routeOptions.config.cost?.of(request) ?? 1;
    if (typeof units === 'number') served.count(units);
    else units.then((n) => served.count(n), () => undefined);
  };
}
