/**
 * The ceiling: a bare node:http server, in its own process, answering recorded answers of the service
 * byte for byte (status, headers, body) from a Map keyed by request path. The harness sends it the
 * answers over IPC before each scenario; a path it was not given is a 404.
 */
import { createServer } from 'node:http';

export interface RecordedAnswer {
  path: string;
  status: number;
  /** Header name/value pairs as the service sent them (Date, Connection and framing headers excluded). */
  headers: [string, string][];
  bodyBase64: string;
}

interface Prepared {
  status: number;
  headers: string[];
  body: Buffer;
}

const answers = new Map<string, Prepared>();

const server = createServer((request, response) => {
  const answer = answers.get(request.url ?? '');
  if (!answer) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
});
server.keepAliveTimeout = 72_000;

process.on('message', (message: { answers: RecordedAnswer[] }) => {
  answers.clear();
  for (const { path, status, headers, bodyBase64 } of message.answers) {
    const body = Buffer.from(bodyBase64, 'base64');
    const flat = headers.flatMap(([name, value]) => [name, value]);
    flat.push('Content-Length', String(body.length));
    answers.set(path, { status, headers: flat, body });
  }
  process.send?.({ loaded: answers.size });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ port });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
