import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitStore, ThrottleScope } from '../../app/throttle.js';
import { RateLimitStoreUnavailableError, ThrottledError, ValidationError } from '../../domain/errors.js';
import { type Rate, secondsUp, type ThrottleDecision } from '../../domain/throttle.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The throttle's verdict on this request's first scope, when it was counted. */
    rateLimit?: { scope: ThrottleScope; decision: ThrottleDecision };
    /** The scope that refused the request (429), for the metrics. */
    throttledBy?: ThrottleScope['name'];
    /** What this request was counted against, for its RateLimit fields and for settling a held allowance. */
    counted?: Counted[];
    /** Units this request has been counted for so far, on each of its scopes. */
    unitsCounted?: number;
  }
  interface FastifyInstance {
    /** The counter the gates count with, for a route whose cost is only known from its answer (chargeWhole). */
    requestCounter?: RequestCounter;
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

  function answer(request: FastifyRequest, reply: FastifyReply, counted: Counted[], wholeCost: number): void {
    if (counted.length === 0) return;
    request.rateLimit ??= counted[0];
    request.counted = counted;
    writeFields(reply, counted);
    const refused = counted.find(({ decision }) => !decision.allowed);
    if (!refused) {
      request.unitsCounted = (request.unitsCounted ?? 0) + counted[0]!.cost;
      return;
    }
    request.throttledBy = refused.scope.name;
    throw new ThrottledError(secondsUp(refused.decision.retryAfterMs), wholeCost);
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
      answer(request, reply, counted, (request.unitsCounted ?? 0) + cost);
    },

    /**
     * For a route whose cost is only known once it has read its answer (rows it returns): counts what of
     * `units` — the whole request's cost — its gate has not counted yet, against the same scopes, all or
     * nothing. A request refused here was read and still counts what its gate counted (as a portfolio's
     * first unit): else a client with one unit left could have a ledger read for free, again and again.
     * `units` is not asked for a request nothing counted (its scope is off, or the store was away).
     */
    async chargeWhole(request: FastifyRequest, reply: FastifyReply, units: () => number | Promise<number>, field: string): Promise<void> {
      const scopes = request.counted?.map(({ scope }) => scope);
      if (!scopes || scopes.length === 0 || request.unitsCounted === undefined) return;
      const whole = await units();
      const unpaid = whole - request.unitsCounted;
      if (unpaid <= 0) return;
      const tightest = scopes.reduce((a, b) => (b.rate.limit < a.rate.limit ? b : a));
      if (whole > tightest.rate.limit) throw beyondAnyAllowance(tightest.rate, field, whole);
      await this.count(request, reply, scopes, unpaid);
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

/**
 * A cost no allowance can ever pay is the client's mistake, not a wait: 400 on
 * the input that sets it. It still counts what was counted, as every answer does.
 */
export function beyondAnyAllowance(rate: Rate, field: string, units: number): ValidationError {
  return new ValidationError(field, `costs ${units} requests, more than the whole allowance of ${rate.text}; ask for fewer at a time`);
}
