import type { FastifyRequest } from 'fastify';

/**
 * Whether the client prefers `alternative` (say text/csv) over JSON, by the
 * order and q-values of its Accept header. No Accept, or a wildcard, means JSON.
 */
export function prefers(request: FastifyRequest, alternative: string): boolean {
  const accept = request.headers.accept;
  if (!accept) return false;
  let best: { type: string; q: number } | undefined;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if ((type === alternative || type === 'application/json') && (!best || q > best.q)) best = { type, q };
  }
  return best?.type === alternative && best.q > 0;
}
