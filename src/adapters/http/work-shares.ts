import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Release, ShareRefused, type Worker, type WorkShares } from '../../app/work-shares.js';
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
  interface FastifyRequest {
    /** The request holds (or waits for) a place in its client's share of expensive work. */
    holdsWorkShare?: boolean;
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
 * Takes a place in its client's share for an expensive request, once (a second call does nothing): waits
 * in the queue if need be, else throws the 429. The place is given back when the answer has been sent or
 * its client has gone, so a streamed list holds it while it streams.
 */
export function shareTaker(shares: WorkShares, addressOf: (ip: string) => string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.holdsWorkShare || !request.routeOptions.config.expensive?.(request)) return;
    request.holdsWorkShare = true;
    // Listened for before the wait: a client that leaves while waiting gives its place back as soon as it gets one.
    let release: Release | undefined;
    let gone = false;
    reply.raw.once('close', () => {
      gone = true;
      release?.();
    });
    // A client gone before this ran (during the gate's awaits) closed before the listener was there: its
    // 'close' will never come, and the place taken below would never be given back.
    if (reply.raw.destroyed || request.raw.socket?.destroyed) gone = true;
    try {
      release = await shares.enter(workerOf(request, request.clientAddress ?? addressOf(request.ip)));
      if (gone) release();
    } catch (error) {
      request.holdsWorkShare = false;
      if (error instanceof ShareRefused) throw new WorkShareRefusedError(secondsUp(error.retryAfterMs));
      throw error;
    }
  };
}

export type ShareTaker = ReturnType<typeof shareTaker>;

/**
 * Runs the expensive requests of `scope` within their client's share: after validation and counting (a
 * refused request takes no place), before the handler — or earlier, where the gate reads storage to learn
 * a request's cost (a portfolio's fold), which is the expensive part. Past the share and its short queue:
 * 429 with Retry-After.
 */
export function installWorkShares(scope: FastifyInstance, takeShare: ShareTaker): void {
  scope.addHook('preHandler', takeShare);
}
