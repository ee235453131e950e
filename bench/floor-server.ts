/**
 * The stack's floor: a bare Fastify app in its own process — no hooks, logger off, one route —
 * answering the same recorded answers as the ceiling (./ceiling-server.ts) from a Map keyed by
 * the request's URL. What it loses to the ceiling is what Fastify itself costs per request, which
 * no change to the service's own code can win back.
 */
import Fastify from 'fastify';
import type { RecordedAnswer } from './ceiling-server.js';

interface Prepared {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const answers = new Map<string, Prepared>();

const app = Fastify({ logger: false, keepAliveTimeout: 72_000 });
app.get('/*', (request, reply) => {
  const answer = answers.get(request.url);
  if (!answer) return reply.code(404).send();
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
});

process.on('message', (message: { answers: RecordedAnswer[] }) => {
  answers.clear();
  for (const { path, status, headers, bodyBase64 } of message.answers) {
    answers.set(path, { status, headers: Object.fromEntries(headers.map(([name, value]) => [name.toLowerCase(), value])), body: Buffer.from(bodyBase64, 'base64') });
  }
  process.send?.({ loaded: answers.size });
});

app.listen({ port: 0, host: '127.0.0.1' }).then(() => {
  const { port } = app.server.address() as { port: number };
  process.send?.({ port });
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
