/**
 * Each request's time budget (REQUEST_BUDGET_MS): a signal that aborts when the budget runs out or the
 * client goes away before its answer. Market data is waited for only until then (app/market-data/answer-due.ts),
 * so a batch, a portfolio or a quote answers with what it has, never an empty reply at the server's
 * idle-connection close (server-limits.ts), and upstream calls nobody waits for are not made.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Aborts when the request's time budget runs out, or its client leaves before the answer. */
    answerDue: AbortSignal;
  }
}

export function startRequestBudget(request: FastifyRequest, reply: FastifyReply, budgetMs: number): void {
  const due = new AbortController();
  const timer = setTimeout(() => due.abort(), budgetMs);
  timer.unref(); // a request's budget keeps no process alive
  // The response closes when sent or when its connection does: unsent, the client has gone.
  reply.raw.once('close', () => {
    clearTimeout(timer);
    if (!reply.raw.writableFinished) due.abort();
  });
  request.answerDue = due.signal;
}
