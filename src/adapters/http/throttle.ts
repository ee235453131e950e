import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitStore, ThrottleScope } from '../../app/throttle.js';
import { RateLimitStoreUnavailableError, ThrottledError } from '../../domain/errors.js';
import { secondsUp, type ThrottleDecision } from '../../domain/throttle.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The throttle's verdict on this request, when it was counted. */
    rateLimit?: { scope: ThrottleScope; decision: ThrottleDecision };
  }
}

export type StoreFailurePolicy = 'allow' | 'deny';

/**
 * An onRequest hook counting each request against its scope. Every counted
 * answer carries the IETF RateLimit-Policy / RateLimit fields; a refusal is
 * DRF's 429 with Retry-After. When the store cannot be reached, `onStoreFailure`
 * decides: 'allow' serves the request uncounted (the store logs loudly and
 * /health shows it), 'deny' answers 503.
 */
export function throttleHook(
  store: RateLimitStore,
  scopeOf: (request: FastifyRequest) => ThrottleScope | undefined,
  onStoreFailure: StoreFailurePolicy,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const scope = scopeOf(request);
    if (!scope) return;
    let decision: ThrottleDecision;
    try {
      decision = await store.hit(`${scope.name}:${scope.key}`, scope.rate);
    } catch (error) {
      if (onStoreFailure === 'deny') throw new RateLimitStoreUnavailableError();
      request.log.debug({ err: error }, 'rate limit not checked: store unreachable');
      return;
    }
    request.rateLimit = { scope, decision };
    reply.header('ratelimit-policy', `"${scope.name}";q=${scope.rate.limit};w=${Math.round(scope.rate.windowMs / 1000)}`);
    reply.header('ratelimit', `"${scope.name}";r=${decision.remaining};t=${secondsUp(decision.resetMs)}`);
    if (!decision.allowed) throw new ThrottledError(secondsUp(decision.retryAfterMs));
  };
}
