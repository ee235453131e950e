/**
 * X-Request-Id: a proxy's id is kept when the request came through the
 * proxies TRUST_PROXY counts, and it is safe to echo and to log; anything
 * else is replaced by a fresh UUID, never echoed as sent. Without trusted
 * proxies a client reaches the service directly and could pick the id under
 * which its requests are logged (posing as another's, or colliding with one),
 * so the service always makes its own. Nor can a header carry a CR/LF or NUL
 * back into our answer, or a 20 KB id bloat every log line of its request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What common tracers and proxies send (UUIDs, hex trace ids, `host:pid:n`), and nothing that needs escaping. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Names a request: Fastify's genReqId, and the refusals the HTTP server writes itself (protocol-errors.ts). */
export type RequestIdOf = (request: Pick<IncomingMessage, 'headers'>) => string;

/** The request's id: its X-Request-Id when well-formed (sent twice, Node joins them with ", ", so not), else a new UUID. */
const sentOrNew: RequestIdOf = (request) => {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && WELL_FORMED.test(sent) ? sent : randomUUID();
};

/** How requests are named: the id a trusted proxy sends (TRUST_PROXY > 0), else always the service's own. */
export function requestIds(trustProxy: number): RequestIdOf {
  return trustProxy > 0 ? sentOrNew : () => randomUUID();
}
