/**
 * X-Request-Id: a caller's (or its proxy's) id is kept when it is safe to
 * echo and to log; anything else is replaced by a fresh UUID, never echoed
 * as sent: a header cannot carry a CR/LF or NUL back into our answer, and a
 * 20 KB id cannot bloat every log line of its request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What common tracers and proxies send (UUIDs, hex trace ids, `host:pid:n`), and nothing that needs escaping. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: its X-Request-Id when well-formed (sent twice, Node joins them with ", ", so not), else a new UUID. */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && WELL_FORMED.test(sent) ? sent : randomUUID();
}
