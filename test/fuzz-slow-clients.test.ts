import type { AddressInfo, Socket } from 'node:net';
import { expect, it } from 'vitest';
import { errorAnswerProblem } from './support/answers.js';
import { testEngines } from './support/engines.js';
import { describeExchange, type Exchange, exchange } from './support/raw-http.js';
import { startService } from './support/service.js';

/**
 * Slow clients over a real socket, against the README's promise: 10 s to send
 * the headers (Hardening), met "within a couple of seconds" (issue 7, item 9).
 * A client that stops mid-headers, and one that trickles a byte every 2 s,
 * are answered 408 (JSON with detail) or closed by then; meanwhile another
 * client is served at once. Both wait at most the bound, side by side.
 *
 * Not here: a body that stalls (the README's 30 s request timeout is too long
 * to wait in every run) — the dedicated timeout tests cover it.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const SLACK_MS = 2_500;
const BOUND_MS = HEADERS_TIMEOUT_MS + SLACK_MS;

function slowClientProblem(result: Exchange): string | undefined {
  if (result.timedOut) return `still open after ${result.elapsedMs} ms (bound: ${HEADERS_TIMEOUT_MS} ms + ${SLACK_MS} ms)`;
  const answer = result.responses[0];
  if (answer && answer.status !== 408) return `answered ${answer.status}, not 408`;
  if (answer) return errorAnswerProblem(answer);
  return undefined;
}

/** Writes one more header byte every 2 s until the connection closes. */
function trickle(socket: Socket): void {
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write('a');
  }, 2000);
  socket.on('close', () => clearInterval(timer));
}

it(`when clients stall or trickle their headers, then each is answered 408 with detail or closed within ${HEADERS_TIMEOUT_MS / 1000} s (+${SLACK_MS / 1000} s), while others are served`, async () => {
  // The header timeout belongs to the HTTP layer, not the storage: one engine suffices.
  const { app } = await startService(testEngines()[0]!);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const head = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';

  const stalled = exchange(port, [head], { deadlineMs: BOUND_MS, expectResponses: 1 });
  const trickling = exchange(port, [head], { deadlineMs: BOUND_MS, expectResponses: 1, drive: trickle });
  const served = await exchange(port, ['GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], { deadlineMs: 5000, expectResponses: 1 });

  const problems = [
    served.responses[0]?.status === 200 ? undefined : `a prompt request beside the slow ones: ${describeExchange(served)}`,
    ...[['stops mid-headers', await stalled], ['sends a header byte every 2 s', await trickling]].map(([name, result]) => {
      const problem = slowClientProblem(result as Exchange);
      return problem && `a client that ${name as string}: ${problem} → ${describeExchange(result as Exchange)}`;
    }),
  ].filter((p) => p !== undefined);
  expect(problems).toEqual([]);
}, 30_000);
