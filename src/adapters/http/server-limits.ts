import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { ServerLimits } from '../../config.js';
import { createCountingReport } from './counting-report.js';
import { answeringUnmetExpectation, clientErrorHandler, refuseConnect, requiringHost } from './protocol-errors.js';
import type { RequestIdOf } from './request-id.js';

export type { ServerLimits };

/** How long an idle keep-alive connection is kept (Fastify's default, longer than proxies' usual 60 s, so the proxy closes first). */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** A connection on which nothing moves for this long (a client that stops reading its answer, say) is closed. */
const IDLE_SOCKET_TIMEOUT_MS = 60_000;

/**
 * Node checks the headers and request timeouts only every `connectionsCheckingInterval`
 * (30 s by default): a slow client would meet 10 s + up to 30 s. Checking every second
 * (sooner for sub-second limits) makes the documented limit what a client meets, within
 * a second; the check walks the open connections, cheap at MAX_CONNECTIONS.
 */
function checkingIntervalMs(limits: ServerLimits): number {
  return Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** Connections refused at the cap are reported at most this often. */
const REPORT_EVERY_MS = 5000;

/**
 * The Fastify options that apply the limits: the HTTP server is built here (Fastify's
 * `serverFactory`) because the connection cap is a property of the server, not an option;
 * what Node would answer on its own is answered as JSON (protocol-errors.ts).
 */
export function serverLimitOptions(
  limits: ServerLimits,
  log: FastifyBaseLogger,
  requestIdOf: RequestIdOf,
): Pick<FastifyServerOptions, 'serverFactory' | 'clientErrorHandler'> {
  return {
    clientErrorHandler,
    serverFactory: (handler) => createLimitedServer(handler as RequestListener<typeof IncomingMessage>, limits, log, requestIdOf),
  };
}

export function createLimitedServer(handler: RequestListener<typeof IncomingMessage>, limits: ServerLimits, log: FastifyBaseLogger, requestIdOf: RequestIdOf): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
      // Node's check answers a bare 400; requiringHost answers it with a detail.
      requireHostHeader: false,
    },
    requiringHost(handler, requestIdOf),
  );
  server.on('checkExpectation', answeringUnmetExpectation(requestIdOf));
  server.on('connect', refuseConnect);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = limits.maxConnections;
  // Node closes a connection past the cap without a word: the operator hears of it here.
  const refused = createCountingReport(REPORT_EVERY_MS, (count) =>
    log.warn({ refused: count, max_connections: limits.maxConnections }, 'connections refused: MAX_CONNECTIONS are open'),
  );
  server.on('drop', () => refused.add());
  server.setTimeout(IDLE_SOCKET_TIMEOUT_MS);
  return server;
}
