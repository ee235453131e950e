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
 * `urlRefusedCompleted`, which logs and measures it and writes its apicalls.log
 * line, but counts it as served nowhere.
 * A request whose client went away before its answer was sent gets no
 * completion from Fastify (nor did onResponse hooks see it), although the
 * service did the work (an upstream call, a trade): `everyCall` observers
 * (apicalls.log) still hear it, once, when its connection closes.
 * Fastify's other lines (stream and serializer errors) stay.
 */
export class RequestCompletion extends LogController {
  private readonly routed: CompletionObserver[];
  private readonly completed = new WeakSet<FastifyReply>();

  constructor(
    private readonly every: CompletionObserver[],
    routedOnly: CompletionObserver[] = [],
    private readonly everyCall: CompletionObserver[] = [],
  ) {
    super({ requestIdLogLabel: 'request_id' });
    this.routed = [...everyCall, ...routedOnly, ...every];
  }

  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (this.everyCall.length === 0) return;
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished || this.completed.has(reply)) return;
      for (const observe of this.everyCall) observe(request, reply);
    });
  }

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.completed.add(reply);
    for (const observe of this.routed) observe(request, reply);
  }

  urlRefusedCompleted(request: FastifyRequest, reply: FastifyReply): void {
    this.completed.add(reply);
    // Still a call: under /api/v1 it is counted against the address, and apicalls.log has one line per call.
    for (const observe of this.everyCall) observe(request, reply);
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
