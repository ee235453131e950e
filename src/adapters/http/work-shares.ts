import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ShareRefused, type Worker, type WorkShares } from '../../app/work-shares.js';
import { WorkShareRefusedError } from '../../domain/errors.js';
import { secondsUp } from '../../domain/throttle.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The request may cost much CPU (a full list, a long or adjusted history, an indicator, a portfolio):
     * it runs within its client's share of expensive work (app/work-shares.ts).
     */
    expensive?: (request: FastifyRequest) => boolean;
  }
  interface FastifyInstance {
    /** The shares the ledger and the API run expensive requests in: what runs and waits, for tests. */
    workShares?: WorkShares;
  }
}

/** Every request of a route marked expensive. */
export const always = () => true;

/** Whose share a request runs in: its account, or its address when anonymous (the ledger, no key). */
function workerOf(request: FastifyRequest, address: string): Worker {
  return request.auth ? { client: `account:${request.auth.account.id}`, anonymous: false } : { client: `address:${address}`, anonymous: true };
}

/**
 * Runs the expensive requests of `scope` within their client's share: after validation and counting (a
 * refused request takes no place), before the handler; the place is given back when the answer is sent or
 * its client has gone, so a streamed list holds it while it streams. Past the share and its short queue: 429
 * with Retry-After.
 */
export function installWorkShares(scope: FastifyInstance, shares: WorkShares, addressOf: (ip: string) => string): void {
  scope.addHook('preHandler', async (request, reply) => {
    const expensive = request.routeOptions.config.expensive;
    if (!expensive?.(request)) return;
    try {
      const release = await shares.enter(workerOf(request, request.clientAddress ?? addressOf(request.ip)));
      reply.raw.once('close', release);
    } catch (error) {
      if (error instanceof ShareRefused) throw new WorkShareRefusedError(secondsUp(error.retryAfterMs));
      throw error;
    }
  });
}
