/**
 * GET /ready for load balancers and orchestrators: may this instance take
 * traffic now? Unlike /health (is the process alive), it is 503 while the
 * schema is not migrated (starting, or another instance migrating), while
 * the database cannot be reached, and from the moment shutdown begins, so
 * traffic moves elsewhere before connections close.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { PUBLIC } from './schemas/security.js';

export interface ReadinessChecks {
  /** Resolves when the database answers. */
  database(): Promise<void>;
  /** Known migrations the database has not applied. */
  pendingMigrations(): Promise<string[]>;
  /** Redis, when configured; `required` when its loss refuses requests (RATE_LIMIT_ON_STORE_FAILURE=deny). */
  redis: { health(): 'ok' | 'unreachable'; required: boolean } | undefined;
  /** True once shutdown has begun. */
  draining(): boolean;
}

const ReadySchema = Type.Object({
  detail: Type.Optional(Type.String({ description: 'Why the instance is not ready (503 only)' })),
  status: Type.String({ description: 'ready; starting (migrations pending); draining (shutting down); or unavailable' }),
  database: Type.String({ description: 'ok or unreachable' }),
  migrations: Type.String({ description: 'applied, pending, or unknown while the database is unreachable' }),
  redis: Type.String({ description: 'ok, unreachable, or not_configured' }),
  draining: Type.Boolean(),
});

/** The 503 as /openapi.json shows it: the fields, with one example per reason. */
const NotReadySchema = {
  ...ReadySchema,
  'x-response-description': 'Not ready: starting, draining or unavailable; `status` and `detail` say which',
  'x-examples': {
    draining: { value: { detail: 'Shutting down: this instance takes no new requests.', status: 'draining', database: 'ok', migrations: 'applied', redis: 'ok', draining: true } },
    unavailable: { value: { detail: 'The database cannot be reached.', status: 'unavailable', database: 'unreachable', migrations: 'unknown', redis: 'ok', draining: false } },
    starting: { value: { detail: 'Database migrations are not all applied yet.', status: 'starting', database: 'ok', migrations: 'pending', redis: 'ok', draining: false } },
  },
};

type Fields = { database: string; migrations: string; redis: string; draining: boolean };

/** The first reason the instance cannot take traffic, if there is one. */
function refusal(fields: Fields, redisRequired: boolean): { status: string; detail: string } | undefined {
  if (fields.draining) return { status: 'draining', detail: 'Shutting down: this instance takes no new requests.' };
  if (fields.database !== 'ok') return { status: 'unavailable', detail: 'The database cannot be reached.' };
  if (fields.migrations !== 'applied') return { status: 'starting', detail: 'Database migrations are not all applied yet.' };
  if (redisRequired && fields.redis !== 'ok') {
    return { status: 'unavailable', detail: 'Redis cannot be reached, and RATE_LIMIT_ON_STORE_FAILURE=deny refuses requests without it.' };
  }
  return undefined;
}

export function readyRoute(checks: ReadinessChecks): FastifyPluginAsyncTypebox {
  // Migrations are never undone: once applied, the check is not repeated.
  let applied = false;
  async function migrations(): Promise<string> {
    if (!applied) applied = (await checks.pendingMigrations()).length === 0;
    return applied ? 'applied' : 'pending';
  }

  return async (app) => {
    app.get(
      '/ready',
      { schema: { summary: 'Readiness: may this instance take traffic', operationId: 'getReadiness', tags: ['operations'], security: PUBLIC, response: { 200: ReadySchema, 503: NotReadySchema } } },
      async (_request, reply) => {
        const database = await checks.database().then(
          () => 'ok',
          () => 'unreachable',
        );
        const fields: Fields = {
          database,
          migrations: database === 'ok' ? await migrations().catch(() => 'unknown') : 'unknown',
          redis: checks.redis?.health() ?? 'not_configured',
          draining: checks.draining(),
        };
        const refused = refusal(fields, checks.redis?.required ?? false);
        if (refused) return reply.code(503).send({ detail: refused.detail, status: refused.status, ...fields });
        return { status: 'ready', ...fields };
      },
    );
  };
}
