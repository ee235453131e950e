/**
 * The dashboard (web/, built by `vite build` into dist/web): GET / is its
 * page, GET /assets/* its hashed scripts and styles. Outside /api/v1, so
 * neither throttled nor in apicalls.log; the page's own API calls are.
 *
 * No catch-all: an unknown path is still the JSON 404 (the page's views are
 * hash routes, `/#/ledger`, so it never needs one).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { ErrorBody } from './errors.js';
import { dashboardContentSecurityPolicy } from './security-headers.js';

/** <repository>/dist/web, from src/adapters/http (tsx) and dist/adapters/http (built) alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));

/** Hashed names change with their content: a year, never revalidated. */
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;

const NOT_BUILT: ErrorBody = {
  detail: 'The dashboard is not built: run `npm run build` (it runs `vite build` into dist/web), then open / again.',
};

export function dashboardRoutes(dir: string = DEFAULT_DASHBOARD_DIR): FastifyPluginAsync {
  return async (scope) => {
    const csp = dashboardContentSecurityPolicy();
    await scope.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/assets/',
      // Built or not when the service starts, the routes are the same: a missing file is the JSON 404.
      suppressWarning: true,
      index: false,
      redirect: false,
      list: false,
      immutable: true,
      maxAge: ASSET_MAX_AGE_MS,
      dotfiles: 'deny',
    });
    // The page is small and names the current assets: revalidated on each visit (ETag), so a new build shows at once.
    scope.get('/', { schema: { hide: true } }, async (_request, reply) => {
      reply.header('content-security-policy', csp);
      // Checked per request: a build made after the service started is served without a restart.
      // 404, not 503: nothing is down, the page is not there yet (and no client input ever causes a 5xx).
      const built = await access(join(dir, 'index.html')).then(() => true, () => false);
      if (!built) return reply.code(404).send(NOT_BUILT);
      return reply.header('cache-control', 'no-cache').sendFile('index.html', dir, { cacheControl: false });
    });
  };
}
