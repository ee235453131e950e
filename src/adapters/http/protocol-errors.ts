/**
 * What Node's HTTP server would answer on its own, before any route — a request its
 * parser cannot read, a timeout, a missing Host, an unmet Expect — answered in the
 * shape of every other answer: JSON with a `detail`.
 */

import { type IncomingMessage, type RequestListener, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { RequestIdOf } from './request-id.js';

/** Also documented on every operation (schemas/answers.ts), as any request may meet them. */
export const CLIENT_ERRORS: Record<400 | 408 | 431, string> = {
  400: 'Malformed HTTP request.',
  408: 'Request timed out: the request was not received in time.',
  431: 'Request header fields are too large.',
};
const MISSING_HOST = 'An HTTP/1.1 request must have a Host header.';
const EXPECTATION_FAILED = 'Expectation failed: the only expectation supported is "Expect: 100-continue".';

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };

/** A refusal of a request Fastify never sees: it still carries its X-Request-Id, like every other answer. */
function refuse(request: IncomingMessage, response: ServerResponse, status: number, detail: string, requestIdOf: RequestIdOf): void {
  const body = JSON.stringify({ detail });
  response.writeHead(status, { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(body), 'X-Request-Id': requestIdOf(request) });
  response.end(body);
}

function lacksHost(request: IncomingMessage): boolean {
  return request.httpVersion === '1.1' && request.headers.host === undefined;
}

/**
 * RFC 9112 §3.2: an HTTP/1.1 request without Host is 400 (HTTP/1.0 needs none). Node's own
 * check (`requireHostHeader`) answers a bare 400, so the server turns it off and this does it.
 * The request's framing is sound, so the connection stays open: requests pipelined after it
 * are answered in turn (Node reads and drops this one's body).
 */
export function requiringHost(handler: RequestListener<typeof IncomingMessage>, requestIdOf: RequestIdOf): RequestListener<typeof IncomingMessage> {
  return (request, response) => (lacksHost(request) ? refuse(request, response, 400, MISSING_HOST, requestIdOf) : handler(request, response));
}

/**
 * The server's 'checkExpectation' listener: an `Expect` other than 100-continue (which Node
 * answers itself, then serves the request) is 417, as Node would answer, but with a `detail`.
 */
export function answeringUnmetExpectation(requestIdOf: RequestIdOf): RequestListener<typeof IncomingMessage> {
  return requiringHost((request, response) => refuse(request, response, 417, EXPECTATION_FAILED, requestIdOf), requestIdOf);
}

/**
 * The server's 'connect' listener: the service is no proxy, so CONNECT is 405 like any method a
 * path does not serve (Node, with no listener, closes the socket without a word). A CONNECT has
 * no response object, so the answer is written to the socket, which is then closed.
 */
export function refuseConnect(request: IncomingMessage, socket: Socket): void {
  socket.end(closingAnswer(405, `Method "${request.method}" not allowed.`));
}

/** A whole answer, written straight to a socket that has no response object, closing the connection. */
function closingAnswer(status: number, detail: string): string {
  const body = JSON.stringify({ detail });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
    `Content-Type: ${JSON_HEADERS['Content-Type']}\r\n` +
    'X-Content-Type-Options: nosniff\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

function clientErrorStatus(error: NodeJS.ErrnoException): keyof typeof CLIENT_ERRORS {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (error.code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/** Sockets whose client error is being answered: the parser reports again on each later chunk. */
const answering = new WeakSet<Socket>();

/**
 * Runs `then` once the answers to the requests read whole before the error are written.
 * Node hands the socket to each pipelined response in turn (`_httpMessage`), the next one as
 * the previous finishes; a response closes once written or when the socket goes. A response
 * whose request is not complete (the error is in its body, or its body is too slow) waits for
 * bytes that will not come: `then` runs with it, to answer in its place.
 */
function afterEarlierAnswers(socket: HttpSocket, then: (unanswered: ServerResponse | undefined) => void): void {
  const inFlight = socket._httpMessage ?? undefined;
  if (socket.destroyed) return;
  if (!inFlight?.req.complete) return then(inFlight);
  inFlight.once('close', () => afterEarlierAnswers(socket, then));
}

/**
 * Fastify's `clientErrorHandler`. Node's parser stops at the error, but requests it read
 * whole before it (pipelined) are still being answered: the error's answer goes after theirs,
 * in order (RFC 9112 §9.3.2), then the connection closes (the parser's state is lost).
 * Bytes after a `Connection: close` request are no request at all: they are ignored, and the
 * connection closes once that request is answered.
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed || answering.has(socket)) return;
  answering.add(socket);
  if (error.code === 'HPE_CLOSED_CONNECTION') {
    afterEarlierAnswers(socket, () => socket.destroy());
    return;
  }
  const status = clientErrorStatus(error);
  this.log.debug({ err: error, status }, 'client error answered by the HTTP server');
  afterEarlierAnswers(socket, (unanswered) => {
    // As Node does: not once that request's answer has begun, or the bytes would corrupt it.
    if (socket.writable && !unanswered?.headersSent) socket.write(closingAnswer(status, CLIENT_ERRORS[status]));
    socket.destroy(error);
  });
}
