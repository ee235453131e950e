import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { describe, expect, inject, it } from 'vitest';
import { register } from '../support/api.js';
import { startService } from '../support/service.js';

interface Example {
  value: { detail?: unknown; field?: unknown } & Record<string, unknown>;
}
interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: unknown; examples?: Record<string, Example>; example?: unknown }>;
}
interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean; schema?: unknown }[];
  responses: Record<string, Response>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; in?: string; name?: string; scheme?: string }> };
}

/** The service, every route it declared (seen by an onRoute hook), and its OpenAPI document. */
async function documented(env: Record<string, string> = {}) {
  const routes: RouteOptions[] = [];
  const service = await startService('sqlite', env, undefined, { onRoute: (route) => void routes.push(route) });
  const response = await service.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  return { service, routes, document: response.json<Document>() };
}

/** `/api/v1/symbol/:symbol/` as OpenAPI writes it: `/api/v1/symbol/{symbol}`. */
const openapiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1');

/**
 * Routes a client can call: not the hidden 405 refusals, not the reference page's own assets, and
 * not the HEAD twin Fastify adds to each GET (OpenAPI documents GET; HEAD is implied).
 */
const servedRoutes = (routes: RouteOptions[]) =>
  routes.filter((route) => route.schema?.hide !== true && !route.url.startsWith('/docs') && route.method !== 'HEAD');

const operations = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));

/** An operation called as a client would, with `IBM` for each path parameter. */
const callOf = (path: string, method: string) => ({ method: method.toUpperCase() as 'GET', url: path.replace(/\{\w+\}/g, 'IBM') });

describe('GET /openapi.json', () => {
  it('when fetched, then it is OpenAPI 3.1 and lists every route the service serves, with its methods', async () => {
    const { routes, document } = await documented();
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(document.info).toMatchObject({ title: 'Stock Market Service', version }); // package.json's, not a literal of its own

    const served = servedRoutes(routes);
    expect(served.map((route) => openapiPath(route.url))).toEqual(expect.arrayContaining(['/trades', '/api/v1/symbol/{symbol}', '/query', '/health']));
    for (const route of served) {
      for (const method of [route.method].flat()) {
        expect(document.paths[openapiPath(route.url)]?.[method.toLowerCase()], `${method} ${route.url}`).toBeDefined();
      }
    }
    // And nothing else: every documented operation is a route.
    const declared = new Set(served.flatMap((route) => [route.method].flat().map((m) => `${m.toLowerCase()} ${openapiPath(route.url)}`)));
    for (const { path, method } of operations(document)) expect(declared, `${method} ${path}`).toContain(`${method} ${path}`);
  });

  it('when read, then it has the structure OpenAPI 3.1 requires, and none of 3.0\'s', async () => {
    const { document } = await documented();
    const schemes = Object.keys(document.components.securitySchemes);
    for (const { path, method, operation } of operations(document)) {
      const where = `${method} ${path}`;
      expect(path, where).toMatch(/^\//);
      expect(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'], where).toContain(method);
      expect(Object.keys(operation.responses).length, where).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(status, where).toMatch(/^[1-5]\d\d$/);
        expect(typeof response.description, `${where} ${status}`).toBe('string');
        for (const media of Object.values(response.content ?? {})) expect(media, `${where} ${status}`).toHaveProperty('schema');
      }
      for (const parameter of operation.parameters ?? []) {
        expect(['path', 'query', 'header', 'cookie'], where).toContain(parameter.in);
        expect(parameter, where).toHaveProperty('schema');
      }
      // Each requirement names schemes the document defines.
      for (const requirement of operation.security ?? []) for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
    }
    // 3.0's `nullable` does not exist in 3.1 (JSON Schema 2020-12 says `type: 'null'`).
    expect(JSON.stringify(document)).not.toContain('"nullable"');
  });

  it('when read, then every path and query parameter of every route is documented, path ones required', async () => {
    const { routes, document } = await documented();
    for (const route of servedRoutes(routes)) {
      const method = [route.method].flat()[0]!.toLowerCase();
      const parameters = document.paths[openapiPath(route.url)]![method]!.parameters ?? [];
      for (const [, name] of route.url.matchAll(/:(\w+)/g)) {
        expect(parameters, `${method} ${route.url}`).toContainEqual(expect.objectContaining({ in: 'path', name, required: true }));
      }
      const query = Object.keys((route.schema?.querystring as { properties?: object } | undefined)?.properties ?? {});
      // The gateway's apikey is its security scheme, not a parameter.
      for (const name of query.filter((n) => n !== 'apikey')) {
        expect(parameters, `${method} ${route.url}`).toContainEqual(expect.objectContaining({ in: 'query', name }));
      }
    }
  });

  it('when an operation needs a key, then it says so, and its 401 examples are what a caller without one gets', async () => {
    const { service, document } = await documented();
    const keyOnly: string[] = [];
    for (const { path, method, operation } of operations(document)) {
      const response = await service.app.inject(callOf(path, method));
      const needsKey = path === '/query' ? JSON.stringify(response.json()).includes('apikey is invalid or missing') : response.statusCode === 401;
      const security = operation.security ?? [];
      if (!needsKey) {
        // Public: no requirement, or `{}` (no key) among the alternatives.
        expect(security.length === 0 || security.some((s) => Object.keys(s).length === 0), `${method} ${path}`).toBe(true);
        continue;
      }
      keyOnly.push(`${method} ${path}`);
      expect(security, `${method} ${path}`).toEqual(expect.arrayContaining([{ token: [] }, { bearer: [] }, { apiKey: [] }]));
      expect(security.some((s) => Object.keys(s).length === 0), `${method} ${path} must not allow no key`).toBe(false);
      if (path !== '/query') {
        const examples = Object.values(operation.responses['401']!.content!['application/json']!.examples!).map((e) => e.value);
        expect(examples, `${method} ${path}`).toContainEqual(response.json());
      }
    }
    expect(keyOnly).toEqual(expect.arrayContaining(['get /api/v1/symbol/{symbol}', 'get /api/v1/me', 'post /api/v1/keys/rotate', 'get /query', 'get /api/v1/portfolio/{user_id}', 'get /api/v1/portfolio/{user_id}/history']));
    expect(keyOnly).not.toContain('post /api/v1/register');
  });

  it('when a client sends its key each way the security schemes describe, then each is accepted', async () => {
    const { service, document } = await documented();
    const key = await register(service.app);
    const schemes = document.components.securitySchemes;
    // metricsToken is /metrics' own (the next test); the other four carry the API key.
    expect(Object.keys(schemes).sort()).toEqual(['apiKey', 'apikeyQuery', 'bearer', 'metricsToken', 'token']);
    const sent = (name: string): { headers?: Record<string, string>; query?: Record<string, string> } => {
      const scheme = schemes[name]!;
      if (scheme.type === 'http') return { headers: { authorization: `${scheme.scheme === 'bearer' ? 'Bearer' : scheme.scheme} ${key}` } };
      // The token scheme's value is the whole header, as its description says: "Token <key>".
      const value = name === 'token' ? `Token ${key}` : key;
      return scheme.in === 'query' ? { query: { [scheme.name!]: value } } : { headers: { [scheme.name!.toLowerCase()]: value } };
    };
    for (const name of ['token', 'bearer', 'apiKey']) {
      const response = await service.app.inject({ method: 'GET', url: '/api/v1/me/', ...sent(name) });
      expect(response.statusCode, name).toBe(200);
    }
    const gateway = await service.app.inject({ method: 'GET', url: '/query', query: { function: 'GLOBAL_QUOTE', symbol: 'IBM', ...sent('apikeyQuery').query } });
    expect(gateway.json()).toHaveProperty('Global Quote');
  });

  it('when METRICS_TOKEN is set, then /metrics takes the token as its metricsToken scheme says, and refuses without it as documented', async () => {
    const { service, document } = await documented({ METRICS_TOKEN: 'scrape-secret' });
    const operation = document.paths['/metrics']!.get!;
    expect(operation.security).toEqual([{}, { metricsToken: [] }]);
    expect(document.components.securitySchemes.metricsToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const refused = await service.app.inject({ method: 'GET', url: '/metrics' });
    expect(refused.statusCode).toBe(401);
    const examples = Object.values(operation.responses['401']!.content!['application/json']!.examples!).map((e) => e.value);
    expect(examples).toContainEqual(refused.json());
    const scraped = await service.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } });
    expect(scraped.statusCode).toBe(200);
    expect(Object.keys(operation.responses['200']!.content!)).toEqual(['text/plain']);
  });

  it('when an operation can fail, then each error answer has examples of its `detail`, and the headers a client must read', async () => {
    const { document } = await documented();
    let errors = 0;
    for (const { path, method, operation } of operations(document)) {
      for (const [status, response] of Object.entries(operation.responses).filter(([s]) => Number(s) >= 400)) {
        const where = `${method} ${path} ${status}`;
        const examples = Object.values(response.content?.['application/json']?.examples ?? {});
        expect(examples.length, where).toBeGreaterThan(0);
        if (path === '/health') continue; // its 503 is the health report, not an error body
        errors += 1;
        for (const { value } of examples) expect(typeof value.detail, where).toBe('string');
        if (status === '400') expect(examples.some(({ value }) => typeof value.field === 'string'), where).toBe(true);
        if (status === '401') expect(response.headers, where).toHaveProperty('www-authenticate');
        if (status === '429') expect(response.headers, where).toHaveProperty('retry-after');
      }
    }
    expect(errors).toBeGreaterThan(30);
    const quote = document.paths['/api/v1/symbol/{symbol}']!.get!.responses;
    expect(Object.keys(quote)).toEqual(expect.arrayContaining(['400', '401', '404', '429', '502', '503']));
    expect(quote['503']!.headers).toHaveProperty('retry-after');
  });

  it('when a throttled request is answered, then its body is among the documented 429 examples', async () => {
    const { service, document } = await documented({ THROTTLE_ANON: '1/day' });
    await service.app.inject({ method: 'GET', url: '/api/v1/' });
    const refused = await service.app.inject({ method: 'GET', url: '/api/v1/' });
    expect(refused.statusCode).toBe(429);
    const examples = Object.values(document.paths['/api/v1']!.get!.responses['429']!.content!['application/json']!.examples!);
    // The wait differs; the wording is the documented one.
    const wording = (detail: unknown) => String(detail).replace(/\d+ seconds?/, 'N seconds');
    expect(examples.map((e) => wording(e.value.detail))).toContain(wording(refused.json().detail));
  });

  it('when history is documented, then it offers CSV beside JSON, and Accept: text/csv gets CSV', async () => {
    const { service, document } = await documented();
    const content = document.paths['/api/v1/symbol/{symbol}/history']!.get!.responses['200']!.content!;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(document.paths['/query']!.get!.responses['200']!.content!).sort()).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(document.paths['/api/v1/portfolio/{user_id}']!.get!.responses['200']!.content!).sort()).toEqual(['application/json', 'text/csv']);
    // The trade list is JSON only.
    expect(Object.keys(document.paths['/trades']!.get!.responses['200']!.content!)).toEqual(['application/json']);

    const key = await register(service.app);
    const csv = await service.app.inject({ method: 'GET', url: '/api/v1/symbol/IBM/history/', headers: { 'x-api-key': key, accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.split('\n')[0]).toBe('date,open,high,low,close,volume');
  });
});

describe('GET /docs', () => {
  it('when the reference page and its assets are fetched, then they are served by the service, neither throttled nor logged', async () => {
    const logPath = join(inject('sqliteDir'), `docs-calls-${Date.now()}.log`);
    const service = await startService('sqlite', { THROTTLE_ANON: '1/day', APICALLS_LOG: logPath });
    for (let i = 0; i < 3; i++) {
      for (const url of ['/docs', '/docs/', '/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js', '/docs/json', '/openapi.json']) {
        const response = await service.app.inject({ method: 'GET', url });
        expect(response.statusCode, url).toBe(200);
        expect(response.headers, url).not.toHaveProperty('ratelimit');
      }
    }
    const page = await service.app.inject({ method: 'GET', url: '/docs' });
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    // No inline script: every script is a file of the service's, as its CSP demands.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
    // Its one change from the service's CSP: no upgrade of its own http:// assets to https://.
    expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect((await service.app.inject({ method: 'GET', url: '/openapi.json' })).headers['content-security-policy']).toContain('upgrade-insecure-requests');
    const initializer = await service.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain('validatorUrl: null');
    await service.close();
    expect(readFileSync(logPath, 'utf8')).toBe('');
  });
});
