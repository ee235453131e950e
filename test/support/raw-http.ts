import { connect, type Socket } from 'node:net';

/**
 * A deliberately dumb HTTP/1.1 client over a real TCP socket: it sends bytes
 * exactly as given (malformed request lines, bare LF, lying lengths, NUL
 * bytes, pipelined requests) and reads back whatever the server answers, so
 * tests can see what Node's own parser and the app do with hostile bytes.
 */

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Exchange {
  /** The answers, in order; interim 1xx answers are left out. */
  responses: RawResponse[];
  /** The server closed (or reset) the connection before the deadline. */
  closed: boolean;
  /** Neither the expected answers nor a close came within the deadline. */
  timedOut: boolean;
  /** Bytes that did not parse as an HTTP answer (empty when all did). */
  unparsed: Buffer;
  /** Why they did not parse. */
  parseError?: string;
  elapsedMs: number;
}

export interface ExchangeOptions {
  /** Give up after this long; the exchange then reports `timedOut`. */
  deadlineMs: number;
  /** Stop once this many answers arrived (keep-alive connections never close on their own). Default: wait for the close. */
  expectResponses?: number;
  /** Half-close after writing, so the server sees the end of the stream. */
  end?: boolean;
  /** Half-close if nothing came back this long after writing: a client with nothing more to send (a cut request) gives up its side. */
  endIfSilentMs?: number;
  /** For each expected answer, whether its request was a HEAD (the answer then has no body whatever its length says). */
  heads?: boolean[];
  /** Called with the socket once connected, for clients that write slowly themselves. */
  drive?: (socket: Socket) => void;
}

export type Parsed = { response: RawResponse; rest: Buffer } | { needMore: true } | { error: string };

const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses one answer from the front of `data`; `closed` says no more bytes will come. */
export function parseResponse(data: Buffer, isHead: boolean, closed: boolean): Parsed {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) return closed ? { error: 'the connection closed inside an answer head' } : { needMore: true };
  const lines = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!statusLine) return { error: `not an HTTP status line: ${JSON.stringify(lines[0])}` };
  const status = Number(statusLine[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: `not a header line: ${JSON.stringify(line)}` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const afterHead = data.subarray(headEnd + 4);
  if (isHead || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { response: { status, headers, body: Buffer.alloc(0) }, rest: afterHead };
  }
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return parseChunked(status, headers, afterHead, closed);
  if (headers['content-length'] !== undefined) {
    if (!/^\d+$/.test(headers['content-length'])) return { error: `bad Content-Length in answer: ${headers['content-length']}` };
    const length = Number(headers['content-length']);
    if (afterHead.length < length) {
      return closed ? { error: `the connection closed after ${afterHead.length} of ${length} body bytes` } : { needMore: true };
    }
    return { response: { status, headers, body: afterHead.subarray(0, length) }, rest: afterHead.subarray(length) };
  }
  // No length: the body runs to the close.
  return closed ? { response: { status, headers, body: afterHead }, rest: Buffer.alloc(0) } : { needMore: true };
}

function parseChunked(status: number, headers: Record<string, string>, data: Buffer, closed: boolean): Parsed {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return closed ? { error: 'the connection closed inside a chunked answer' } : { needMore: true };
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) return { error: 'bad chunk size in answer' };
    at = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n', at);
      if (trailerEnd < 0) return closed ? { error: 'the connection closed inside a chunked answer' } : { needMore: true };
      return { response: { status, headers, body: Buffer.concat(chunks) }, rest: data.subarray(trailerEnd + 2) };
    }
    if (data.length < at + size + 2) return closed ? { error: 'the connection closed inside a chunk' } : { needMore: true };
    chunks.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * Connects to 127.0.0.1:`port`, writes each chunk in turn, and collects the
 * answers until `expectResponses` arrived, the server closed, or the deadline.
 */
export function exchange(port: number, chunks: (string | Buffer)[], options: ExchangeOptions): Promise<Exchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let received: Buffer = Buffer.alloc(0);
    const responses: RawResponse[] = [];
    let parseError: string | undefined;
    let settled = false;

    const drain = (closed: boolean) => {
      while (parseError === undefined && received.length > 0) {
        const parsed = parseResponse(received, options.heads?.[responses.length] ?? false, closed);
        if ('needMore' in parsed) return;
        if ('error' in parsed) {
          parseError = parsed.error;
          return;
        }
        if (parsed.response.status >= 200) responses.push(parsed.response);
        received = parsed.rest;
      }
    };
    const finish = (outcome: { closed: boolean; timedOut: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(silence);
      socket.destroy();
      resolve({ responses, ...outcome, unparsed: received, parseError, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish({ closed: false, timedOut: true }), options.deadlineMs);
    let silence: NodeJS.Timeout | undefined;

    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.end) socket.end();
      if (options.endIfSilentMs !== undefined) silence = setTimeout(() => socket.end(), options.endIfSilentMs);
      options.drive?.(socket);
    });
    socket.on('data', (data) => {
      clearTimeout(silence);
      received = Buffer.concat([received, data]);
      drain(false);
      if (parseError !== undefined || (options.expectResponses !== undefined && responses.length >= options.expectResponses)) {
        finish({ closed: false, timedOut: false });
      }
    });
    // A reset after the answer (the server stops reading a body it refused) is still a close.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      drain(true);
      finish({ closed: true, timedOut: false });
    });
  });
}

/** One line of an exchange for a failure message: what came back, briefly. */
export function describeExchange(result: Exchange): string {
  const answers = result.responses.map((r) => `${r.status} ${r.headers['content-type'] ?? '(no content-type)'} ${JSON.stringify(r.body.toString('utf8').slice(0, 160))}`);
  const end = result.timedOut ? `no answer or close within ${result.elapsedMs} ms` : result.closed ? `closed after ${result.elapsedMs} ms` : `answered in ${result.elapsedMs} ms`;
  const junk = result.parseError ? `; unparsable (${result.parseError}): ${JSON.stringify(result.unparsed.toString('latin1').slice(0, 200))}` : '';
  return `[${answers.join(' | ') || 'no answer'}] ${end}${junk}`;
}
