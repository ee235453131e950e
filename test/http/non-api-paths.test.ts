/**
 * The paths outside the API (operations, the reference, the dashboard): every method they do not
 * serve is 405 with `Allow`, as on the API, and the reference page's old address leads to the page.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

/** What a browser meets from `path`: each answer's status, following redirects by hand (at most `limit`). */
async function redirectChain(origin: string, path: string, limit: number): Promise<{ statuses: number[]; url: string }> {
  const statuses: number[] = [];
  let url = new URL(path, origin).href;
  for (let hop = 0; hop <= limit; hop++) {
    const answer = await fetch(url, { redirect: 'manual' });
    await answer.arrayBuffer();
    statuses.push(answer.status);
    const location = answer.headers.get('location');
    if (answer.status < 300 || answer.status >= 400 || location === null) break;
    url = new URL(location, url).href;
  }
  return { statuses, url };
}

describe('the reference page over a socket', () => {
  it.each(['/docs/static/index.html', '/docs/static/index.html?x=1', '/docs/static/index.html/?url=https://elsewhere.test/doc.json'])(
    'when %s is opened, then one redirect leads to the page itself, 200',
    async (path) => {
      const service = await startService('sqlite');
      await service.app.listen({ port: 0, host: '127.0.0.1' });
      const origin = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
      const { statuses, url } = await redirectChain(origin, path, 3);
      expect(statuses).toEqual([302, 200]);
      expect(url).toBe(`${origin}/docs/`);
    },
  );
});

/** Each path outside the API, and the methods it serves (HEAD is served wherever GET is). */
const NON_API_PATHS = ['/health', '/ready', '/metrics', '/openapi.json', '/docs', '/docs/', '/docs/json', '/docs/static/index.html', '/docs/static/swagger-ui.css', '/', '/assets/index.js'];
const REFUSED = ['OPTIONS', 'DELETE', 'PUT', 'PATCH', 'POST'] as const;

describe('methods a path outside the API does not serve', () => {
  it('when any is sent to any of them, then 405 with Allow: GET and a JSON detail', async () => {
    const service = await startService('sqlite');
    const answers: string[] = [];
    for (const url of NON_API_PATHS) {
      for (const method of REFUSED) {
        const answer = await service.app.inject({ method, url });
        answers.push(`${method} ${url}: ${answer.statusCode} ${answer.headers.allow} ${answer.body}`);
      }
    }
    const expected = NON_API_PATHS.flatMap((url) => REFUSED.map((method) => `${method} ${url}: 405 GET {"detail":"Method \\"${method}\\" not allowed."}`));
    expect(answers).toEqual(expected);
  });

  it('when CORS_ORIGINS is set, then a preflight is still answered by CORS, and other methods are still 405', async () => {
    const service = await startService('sqlite', { CORS_ORIGINS: 'https://app.example' });
    for (const url of ['/health', '/openapi.json', '/docs/json']) {
      const preflight = await service.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });
      expect(preflight.statusCode, url).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
      const deleted = await service.app.inject({ method: 'DELETE', url });
      expect(deleted.statusCode, url).toBe(405);
      expect(deleted.headers.allow).toBe('GET');
    }
  });
});
