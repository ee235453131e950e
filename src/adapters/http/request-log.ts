/**
 * One structured line per request, in place of Fastify's two ("incoming
 * request", "request completed"), which carry the URL with its query string,
 * where the Alpha Vantage gateway's `apikey=` travels.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/** Heard once per answered request, after its onResponse hooks. */
export type CompletionObserver = (request: FastifyRequest, reply: FastifyReply) => void;

/** The route as declared (bounded: one per route), or `unmatched` for a path no route serves. */
export function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/**
 * Fastify's log controller with its request lines replaced. Fastify calls
 * `requestCompleted` for every answer it sends, URLs its router refuses
 * included (which no onResponse hook sees): the one place to log and
 * measure every request. Its other lines (stream and serializer errors) stay.
 */
export class RequestCompletion extends LogController {
  constructor(private readonly observers: CompletionObserver[]) {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    for (const observe of this.observers) observe(request, reply);
  }
}

/** The line: method, route pattern, status, duration, and the account when a key was valid — never the key or the query. */
export const logRequest: CompletionObserver = (request, reply) => {
  const account = request.auth?.account.id;
  request.log.info(
    {
      method: request.method,
      route: routeOf(request),
      status: reply.statusCode,
      duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(account !== undefined && { account }),
    },
    'request',
  );
};
