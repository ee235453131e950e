import { createServer, type IncomingMessage, type RequestListener, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyServerOptions } from 'fastify';
import type { ServerLimits } from '../../config.js';
import { createCountingReport } from './counting-report.js';

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

/** Node's own client errors (parser, header size, timeouts), in every other answer's shape. */
const CLIENT_ERRORS: Record<number, string> = {
  400: 'Malformed HTTP request.',
  408: 'Request timed out: the request was not received in time.',
  431: 'Request header fields are too large.',
};

function clientErrorStatus(error: NodeJS.ErrnoException): number {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (error.code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

/**
 * Fastify's `clientErrorHandler`: what Node's parser and timeouts refuse never reaches a
 * route, so Fastify's default answers `{"error": …}`; this answers `{"detail": …}` like the
 * rest of the API, then closes the connection (the parser's state is lost).
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = clientErrorStatus(error);
  this.log.debug({ err: error, status }, 'client error answered by the HTTP server');
  // As Node does: answer only if no answer has started on this socket, or the bytes would corrupt it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ detail: CLIENT_ERRORS[status] });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        'X-Content-Type-Options: nosniff\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}

/** Connections refused at the cap are reported at most this often. */
const REPORT_EVERY_MS = 5000;

/**
 * The Fastify options that apply the limits: the HTTP server is built here (Fastify's
 * `serverFactory`) because the connection cap is a property of the server, not an option.
 */
export function serverLimitOptions(
  limits: ServerLimits,
  log: FastifyBaseLogger,
): Pick<FastifyServerOptions, 'serverFactory' | 'clientErrorHandler'> {
  return {
    clientErrorHandler,
    serverFactory: (handler) => createLimitedServer(handler as RequestListener<typeof IncomingMessage>, limits, log),
  };
}

export function createLimitedServer(handler: RequestListener<typeof IncomingMessage>, limits: ServerLimits, log: FastifyBaseLogger): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    handler,
  );
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
