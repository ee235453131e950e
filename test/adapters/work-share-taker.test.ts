import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { workShares } from '../../src/app/work-shares.js';
import { shareTaker } from '../../src/adapters/http/work-shares.js';

const LIMITS = { perClient: 2, anonymous: 2, queuePerClient: 1, queueWaitMs: 2000 };

/** The parts of Fastify's request and reply the taker reads: an expensive route, a raw reply that closes. */
function exchange(clientGone: boolean) {
  const raw = Object.assign(new EventEmitter(), { destroyed: clientGone });
  const request = { routeOptions: { config: { expensive: () => true } }, ip: '192.0.2.1', raw: { socket: { destroyed: clientGone } } } as unknown as FastifyRequest;
  const reply = { raw } as unknown as FastifyReply;
  return { request, reply, raw };
}

describe("an expensive request's place in its client's share", () => {
  it('when the answer has been sent, then the place is given back', async () => {
    const shares = workShares(LIMITS);
    const take = shareTaker(shares, (ip) => ip);
    const { request, reply, raw } = exchange(false);
    await take(request, reply);
    expect(shares.state().running).toBe(1);
    raw.emit('close');
    expect(shares.state().running).toBe(0);
  });

  it('when the client left before the place was taken (its close already past), then the place is given back at once', async () => {
    const shares = workShares(LIMITS);
    const take = shareTaker(shares, (ip) => ip);
    const { request, reply } = exchange(true);
    await take(request, reply);
    expect(shares.state().running).toBe(0);
  });
});
