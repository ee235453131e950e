import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ApiCallLogHealth } from './api-call-log.js';
import { PUBLIC } from './schemas/security.js';

export interface HealthChecks {
  /** Resolves when the database answers. */
  database(): Promise<void>;
  rateLimitStore: { kind: 'memory' | 'redis'; health(): 'ok' | 'unreachable' };
  apiCallsLog(): ApiCallLogHealth;
}

const HealthSchema = Type.Object({
  status: Type.String({ description: 'ok; degraded (serving, but the rate-limit store is unreachable or apicalls.log cannot be written); or down' }),
  database: Type.String(),
  rate_limit_store: Type.String(),
  apicalls_log: Type.Object({
    status: Type.String({ description: 'ok, or failing while the file cannot be written' }),
    dropped: Type.Integer({ description: 'lines lost since the process started' }),
  }),
});

/** The 503 body is the same report, saying what is down. */
const HealthDown = {
  ...HealthSchema,
  'x-response-description': 'The database cannot be reached',
  'x-examples': {
    down: { value: { status: 'down', database: 'unreachable', rate_limit_store: 'memory: ok', apicalls_log: { status: 'ok', dropped: 0 } } },
  },
};

/**
 * GET /health for load balancers: 200 while the service can answer (even with
 * rate limits unchecked or the request log failing: "degraded"), 503 when the database is down.
 */
export function healthRoute(checks: HealthChecks): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/health', { schema: { summary: 'Liveness and dependencies', operationId: 'getHealth', tags: ['operations'], security: PUBLIC, response: { 200: HealthSchema, 503: HealthDown } } }, async (_request, reply) => {
      const database = await checks.database().then(
        () => 'ok',
        () => 'unreachable',
      );
      const store = checks.rateLimitStore.health();
      const apiCallsLog = checks.apiCallsLog();
      const status = database !== 'ok' ? 'down' : store !== 'ok' || apiCallsLog.status !== 'ok' ? 'degraded' : 'ok';
      return reply.code(database === 'ok' ? 200 : 503).send({
        status,
        database,
        rate_limit_store: `${checks.rateLimitStore.kind}: ${store}`,
        apicalls_log: apiCallsLog,
      });
    });
  };
}
