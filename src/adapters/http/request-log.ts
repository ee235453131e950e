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
 * `requestCompleted` for every request that reached routing, once its answer is
 * sent (where onResponse hooks would run): the one place to log, measure and
 * count every request, with no hook to run per request. A URL the router
 * refuses (414, a malformed URL) reaches neither; its answer calls
 * `urlRefusedCompleted`, which logs and measures it but counts it nowhere else.
 * Fastify's other lines (stream and serializer errors) stay.
 */
export class RequestCompletion extends LogController {
  private readonly routed: CompletionObserver[];

  constructor(private readonly every: CompletionObserver[], routedOnly: CompletionObserver[] = []) {
    super({ requestIdLogLabel: 'request_id' });
    this.routed = [...routedOnly, ...every];
  }

  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    for (const observe of this.routed) observe(request, reply);
  }

  urlRefusedCompleted(request: FastifyRequest, reply: FastifyReply): void {
    for (const observe of this.every) observe(request, reply);
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
