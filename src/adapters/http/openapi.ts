/**
 * The API's reference, generated from the route schemas: the OpenAPI 3.1
 * document at GET /openapi.json, and Swagger UI at GET /docs, its assets
 * served from the @fastify/swagger-ui package so it works offline.
 *
 * What a whole scope shares (the gate's 401/429/503, whether a key is needed)
 * is added to each route's schema here, by the scope that causes it, so no
 * route can forget it and no route repeats it.
 */
import { readFileSync } from 'node:fs';
import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { TSchema } from 'typebox';
import { refusingOtherMethods } from './method-not-allowed.js';
import { type ErrorAnswer, isErrorAnswer, mergeAnswers } from './schemas/answers.js';
import { KEY_SCHEMES, type SecurityRequirement } from './schemas/security.js';

/** The package root: three folders up from src/adapters/http and dist/adapters/http alike. */
const PACKAGE_ROOT = new URL('../../../', import.meta.url);

/** The release the document describes, and its licence: package.json's. */
const PACKAGE = JSON.parse(readFileSync(new URL('package.json', PACKAGE_ROOT), 'utf8')) as { version: string; license: string };

/** The service's own icon, the dashboard's (web/icon.svg): /docs shows it as its logo and favicon. */
const ICON_SVG = readFileSync(new URL('web/icon.svg', PACKAGE_ROOT));

/** What /docs is called in a browser's tab and bookmarks. */
const DOCS_PAGE_TITLE = 'Stock Market Service API';

const DESCRIPTION = [
  'Market data behind API keys, and a trade ledger.',
  '',
  'Every error answer is JSON with a `detail` string; validation errors also carry `field`.',
  'A method a path does not serve is `405` with `Allow` and `{"detail": "Method \\"DELETE\\" not allowed."}`; an unknown URL is `404` `{"detail": "Not found."}`.',
  'Every path is served with or without its trailing slash (`/api/v1/symbol/ibm/`, as the original clients call it).',
].join('\n');

/** Where Swagger UI's page is served. */
const DOCS_PREFIX = '/docs';

/**
 * Registers the document and the reference page; routes declared after this are in the document.
 * Both answer other methods with 405 and `Allow`, as every path does (method-not-allowed.ts).
 */
export async function installApiDocs(app: FastifyInstance, methods: { refuseOptions: boolean }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Stock Market Service',
        version: PACKAGE.version,
        description: DESCRIPTION,
        // An SPDX identifier (OpenAPI 3.1), so tools read the licence without a URL to fetch.
        license: { name: `${PACKAGE.license} License`, identifier: PACKAGE.license },
      },
      // Relative: paths resolve against wherever this document was fetched from (OpenAPI 3.1 §4.8.5), so it
      // is right behind any proxy, host name or TLS terminator without trusting Host or X-Forwarded-* to
      // build an absolute URL (which a client could spoof, and which would make the document per-request).
      servers: [{ url: '/', description: 'This service: the host this document was fetched from' }],
      components: { securitySchemes: KEY_SCHEMES },
    },
  });
  await app.register(refusingOtherMethods(apiDocsRoutes, methods));
}

/** GET /openapi.json and Swagger UI's routes under /docs. */
const apiDocsRoutes: FastifyPluginAsync = async (app) => {
  // The document describes the API, not itself: hidden, as are the reference page's routes.
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiHooks: { onRequest: redirectingIndexToPage },
    // Swagger UI would send the document to validator.swagger.io for its badge: an external request, offline a broken image.
    validatorUrl: false,
    // The initializer is served as a file (/docs/static/swagger-initializer.js): the service's CSP forbids inline scripts.
    uiConfig: { deepLinking: true, displayRequestDuration: true },
    transformStaticCSP: withoutUpgrade,
    // The service's name and icon, not Swagger UI's and Fastify's. The logo is sent as a data: URL,
    // which the page's CSP allows for images (helmet's default img-src 'self' data:).
    theme: { title: DOCS_PAGE_TITLE, favicon: [{ filename: 'icon.svg', rel: 'icon', type: 'image/svg+xml', sizes: 'any', content: ICON_SVG }] },
    logo: { type: 'image/svg+xml', content: ICON_SVG },
  });
};

/**
 * /docs/static/index.html sends the browser to the page itself. Swagger UI's own redirect
 * rewrites the URL only when it ends in `index.html`, so with a query string
 * (`/docs/static/index.html?x=1`) it sent the browser to the same URL, forever. The page reads
 * no query (queryConfigEnabled is off), so the redirect goes to the page alone, a fixed path
 * that echoes nothing the client sent.
 */
async function redirectingIndexToPage(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.routeOptions.url === `${DOCS_PREFIX}/static/index.html`) return reply.redirect(`${DOCS_PREFIX}/`);
}

/**
 * The one change to the service's CSP, on /docs only: without `upgrade-insecure-requests`. A
 * browser reaching the service over plain http by name or address (a server on the network,
 * offline) would otherwise fetch the page's own scripts from https:// and show nothing. Every
 * source rule stays: scripts, styles, images and requests from the service's own origin only.
 */
function withoutUpgrade(csp: string): string {
  return csp
    .split(';')
    .filter((directive) => directive.trim() !== 'upgrade-insecure-requests')
    .join(';');
}

/** Every route declared in `scope` from now on documents `answers`, beside (merged with) its own. */
export function documentAnswers(scope: FastifyInstance, answers: Record<number, ErrorAnswer>): void {
  scope.addHook('onRoute', (route) => {
    if (!isDocumented(route)) return;
    const response: Record<string, unknown> = { ...(route.schema.response as Record<string, unknown> | undefined) };
    for (const [status, answer] of Object.entries(answers)) {
      const own = response[status];
      response[status] = isErrorAnswer(own) ? mergeAnswers(own, answer) : (own ?? answer);
    }
    route.schema = { ...route.schema, response };
  });
}

/**
 * Every route declared in `scope` from now on documents `security`: `'replace'` for a rule
 * (a key is required), `'default'` for what applies unless the route says otherwise.
 */
export function documentSecurity(scope: FastifyInstance, security: SecurityRequirement[], mode: 'replace' | 'default'): void {
  scope.addHook('onRoute', (route) => {
    if (!isDocumented(route)) return;
    if (mode === 'default' && route.schema.security) return;
    route.schema = { ...route.schema, security };
  });
}

/**
 * A route whose path parameters are read as text, so that a bad one is answered in the route's own
 * words (a trade id that is not a number is 404, as any unknown URL; a user_id that is not one is the
 * portfolio's 400), documented as what a client should send: `{ params: { id: Type.Integer() } }`.
 * Each parameter given replaces the validated one in the document only. For the route's `config.swaggerTransform`.
 */
export function documentedAs({ params }: { params: Record<string, TSchema> }): SwaggerTransform {
  return ({ schema, url }) => {
    const validated = (schema as { params?: { properties?: object } }).params;
    return { schema: { ...schema, params: { ...validated, properties: { ...validated?.properties, ...params } } }, url };
  };
}

/** Routes in the document: the 405 refusals and the reference page's assets are hidden. */
function isDocumented(route: RouteOptions): route is RouteOptions & { schema: NonNullable<RouteOptions['schema']> } {
  return route.schema !== undefined && route.schema.hide !== true;
}
