import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkIdempotencyKey } from '../../domain/idempotency.js';

/**
 * The request's Idempotency-Key, or undefined without one. Read from the raw
 * headers: Node joins repeated unknown headers with ", ", and two keys must
 * be refused, not merged into a third.
 */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'idempotency-key') values.push(raw[i + 1]!);
  }
  return checkIdempotencyKey(values);
}

/** Stripe's header on an answer that is the first one again, not a new write. */
export function markReplayed(reply: FastifyReply, replayed: boolean): void {
  if (replayed) void reply.header('idempotent-replayed', 'true');
}
