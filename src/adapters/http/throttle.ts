import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitStore, ThrottleScope } from '../../app/throttle.js';
import { RateLimitStoreUnavailableError, ThrottledError } from '../../domain/errors.js';
import { secondsUp, type ThrottleDecision } from '../../domain/throttle.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The throttle's verdict on this request's first scope, when it was counted. */
    rateLimit?: { scope: ThrottleScope; decision: ThrottleDecision };
    /** The scope that refused the request (429), for the metrics. */
    throttledBy?: ThrottleScope['name'];
    /** What this request was counted against, for its RateLimit fields and for settling a held allowance. */
    counted?: Counted[];
  }
}

export type StoreFailurePolicy = 'allow' | 'deny';

interface Counted {
  scope: ThrottleScope;
  decision: ThrottleDecision;
  cost: number;
}

/**
 * Counts requests against their scopes (app/throttle.ts decides which). Every
 * counted answer carries the IETF RateLimit-Policy / RateLimit fields, one
 * entry per scope; a refusal is DRF's 429 with Retry-After. When the store
 * cannot be reached, `onStoreFailure` decides: 'allow' serves the request
 * uncounted (the store logs loudly and /health shows it), 'deny' answers 503.
 */
export function requestCounter(store: RateLimitStore, onStoreFailure: StoreFailurePolicy) {
  async function ask(request: FastifyRequest, query: () => Promise<ThrottleDecision>): Promise<ThrottleDecision | undefined> {
    try {
      return await query();
    } catch (error) {
      if (onStoreFailure === 'deny') throw new RateLimitStoreUnavailableError();
      request.log.debug({ err: error }, 'rate limit not checked: store unreachable');
      return undefined;
    }
  }

  function answer(request: FastifyRequest, reply: FastifyReply, counted: Counted[]): void {
    if (counted.length === 0) return;
    request.rateLimit ??= counted[0];
    request.counted = counted;
    writeFields(reply, counted);
    const refused = counted.find(({ decision }) => !decision.allowed);
    if (!refused) return;
    request.throttledBy = refused.scope.name;
    throw new ThrottledError(secondsUp(refused.decision.retryAfterMs));
  }

  return {
    /**
     * Counts the request against each scope in turn, `cost` units each (all or
     * nothing); stops at the first that refuses it, as DRF's throttle classes do.
     */
    async count(request: FastifyRequest, reply: FastifyReply, scopes: ThrottleScope[], cost = 1): Promise<void> {
      const counted: Counted[] = [];
      for (const scope of scopes) {
        const decision = await ask(request, () => store.hit(`${scope.name}:${scope.key}`, scope.rate, cost));
        if (!decision) continue;
        counted.push({ scope, decision, cost });
        if (!decision.allowed) break;
      }
      answer(request, reply, counted);
    },

    /**
     * Gives back what the request was counted against a scope it did not spend (one whose `spentOnlyOn`
     * is not the answer's status), before the answer is sent, so the client's next request sees it back.
     * Counting first and giving back after is what keeps concurrent requests from passing the limit; a
     * store that cannot be reached keeps the unit spent (logged), which errs on the limit's side.
     */
    async settle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const counted = request.counted;
      const unspent = counted?.filter(({ scope, decision }) => decision.allowed && scope.spentOnlyOn !== undefined && scope.spentOnlyOn !== reply.statusCode);
      if (!counted || !unspent || unspent.length === 0) return;
      for (const held of unspent) {
        try {
          await store.refund(`${held.scope.name}:${held.scope.key}`, held.scope.rate, held.cost);
          held.decision = { ...held.decision, remaining: Math.min(held.scope.rate.limit, held.decision.remaining + held.cost) };
        } catch (error) {
          request.log.warn({ err: error, scope: held.scope.name }, 'an unspent allowance could not be given back: it stays counted');
        }
      }
      writeFields(reply, counted);
    },
  };
}

/** The IETF RateLimit-Policy / RateLimit fields: one entry per scope counted. */
function writeFields(reply: FastifyReply, counted: Counted[]): void {
  const policies = counted.map(({ scope }) => `"${scope.name}";q=${scope.rate.limit};w=${Math.round(scope.rate.windowMs / 1000)}`);
  const states = counted.map(({ scope, decision }) => `"${scope.name}";r=${decision.remaining};t=${secondsUp(decision.resetMs)}`);
  reply.header('ratelimit-policy', policies.join(', '));
  reply.header('ratelimit', states.join(', '));
}

export type RequestCounter = ReturnType<typeof requestCounter>;
